"""MSAC-SERNet (Pan et al. 2023/2024): additive-margin softmax emotion model with
Multiple Speech Attribute Control, for single- and cross-corpus SER.

Model (jaxser/models/msac.py): the CNN backbone's frames (before its pooling),
attentive statistics pooling, a 256-d emotion embedding, an AM-softmax head
(s = 30, m = 0.2; the margin only in the training loss, inference logits are
s * cosine, so `results.json` and every OOD score see margin-free logits).

Terms (each ablatable by its weight; decisions [METHODS.md silent]):
- `am`: AM-softmax CE on the labelled source (`am_softmax`, options `scale`,
  `margin`); `--config.terms.am.fn=cross_entropy` with `margin` removed is the
  plain-CE head of the same model (`configs/msac_ce.py`).
- `speaker`: a speaker classifier on the embedding behind gradient reversal
  of strength `schedules.speaker_grl` (its own schedule, DANN's sigmoid): the
  embedding is pushed to carry no speaker identity. Source speakers only.
  With `msac.control="orthogonal"` the speaker classifier reads a separate
  attribute embedding instead, without reversal (`configs/msac_orth.py`).
  With `msac.control="confusion"` it reads the embedding with its gradient
  stopped: it is trained normally and the embedding is left to `confusion`.
- `confusion` (control "confusion" only; Alvi et al. 2018, Tzeng et al.
  2015): the cross-entropy of the speaker head's prediction on the embedding
  (its parameters held constant) against the source batch's speaker
  distribution: the embedding is moved until the current head can tell no
  speaker from the prior, instead of being moved to fool the head (what
  reversal against a many-speaker head does: it makes the head wrong, and
  leaves the identity decodable; docs/results.md).
- `orth` (control "orthogonal" only): the Domain Separation Networks
  difference loss between the emotion and attribute embeddings of the source
  half, rows centred and L2-normalised [decision: DSN's form; the paper's
  exact orthogonality constraint is not specified].
- `gender`: a gender classifier on the embedding, no reversal: an auxiliary
  task (speech attributes correlated with emotion expression are kept).
- `adv`: in cross-corpus tasks, a corpus discriminator behind gradient
  reversal of strength `schedules.grl`. Refused in single-corpus protocols
  (loso, ...): there the target half is the tested speakers' utterances, so it
  would adapt to the test data (`validate`; weight 0 there).
Options (`config.msac`): `max_speakers`, the speaker head's size (speaker
indices of the source split must be below it); `control`, "reversal" or
"orthogonal" (jaxser/models/msac.py).
"""

import jax
import jax.numpy as jnp

from jaxser import models
from jaxser.config import ConfigError
from jaxser.data import tasks
from jaxser.losses import classification, contrastive
from jaxser.methods import schedules, terms
from jaxser.methods.base import Method, terms_from_config
from jaxser.models.msac import CONTROLS

SECTION = "msac"
GENDERS = 3  # pipeline.GENDERS: f, m, u


def am_softmax(out, batch, ctx, *, scale: float = 30.0, margin: float = 0.2):
    """AM-softmax CE of the source cosines (the margin on the true class)."""
    return classification.am_softmax(
        out["source"]["cosine"], batch["source"]["label"], scale, margin
    )


def speaker_adversarial(out, batch, ctx):
    """Speaker CE on the source half; the model reverses its gradient."""
    return classification.cross_entropy(out["source"]["speaker_logits"], batch["source"]["speaker"])


def speaker_confusion(out, batch, ctx):
    """CE of the frozen speaker head's prediction on the source embedding against
    the batch's speaker distribution (uniform over its speakers, by count)."""
    logits = out["source"]["speaker_confusion_logits"]
    prior = jnp.mean(jax.nn.one_hot(batch["source"]["speaker"], logits.shape[-1]), axis=0)
    return -jnp.mean(jnp.sum(prior * jax.nn.log_softmax(logits), axis=-1))


def gender_auxiliary(out, batch, ctx):
    """Gender CE on the source half (auxiliary, no reversal)."""
    return classification.cross_entropy(out["source"]["gender_logits"], batch["source"]["gender"])


def attribute_orthogonality(out, batch, ctx):
    """DSN difference loss between the source emotion and attribute embeddings."""

    def rows(x):
        return contrastive.l2_normalize(x - jnp.mean(x, axis=0, keepdims=True))

    src = out["source"]
    return contrastive.orthogonality(rows(src["features"]), rows(src["attribute_features"]))


TERMS = {
    "am_softmax": am_softmax,
    "speaker_adversarial": speaker_adversarial,
    "speaker_confusion": speaker_confusion,
    "gender": gender_auxiliary,
    "attribute_orthogonality": attribute_orthogonality,
}


def validate(config) -> None:
    if config.msac.max_speakers < 1:
        raise ConfigError("config.msac.max_speakers must be >= 1")
    if "speaker_grl" not in config.schedules:
        raise ConfigError("MSAC needs config.schedules.speaker_grl (the speaker reversal)")
    control = config.msac.control
    if control not in CONTROLS:
        raise ConfigError(f"unknown config.msac.control {control!r}; known: {list(CONTROLS)}")
    uses_orth = any(
        t.fn == "attribute_orthogonality" and t.weight != 0 for t in config.terms.values()
    )
    uses_confusion = any(
        t.fn == "speaker_confusion" and t.weight != 0 for t in config.terms.values()
    )
    if uses_confusion and control != "confusion":
        raise ConfigError(
            "the speaker_confusion term needs config.msac.control='confusion' "
            "(the speaker head it reads)"
        )
    if uses_orth and control != "orthogonal":
        raise ConfigError(
            "the attribute_orthogonality term needs config.msac.control='orthogonal' "
            "(the attribute embedding it acts on)"
        )
    adapts = any(t.fn == "adversarial" and t.weight != 0 for t in config.terms.values())
    if adapts and config.data.protocol in tasks.SINGLE_CORPUS:
        raise ConfigError(
            f"data.protocol={config.data.protocol}: MSAC's corpus reversal (terms.adv) would "
            "take the tested speakers' utterances as its unlabelled target half, i.e. adapt "
            "to the test data: set --config.terms.adv.weight=0 (in a sweep: --set "
            "terms.adv.weight=0)"
        )


def build(config, classes: tuple[str, ...], num_target: int | None) -> Method:
    scale = float(config.terms.am.get("scale", 30.0)) if "am" in config.terms else 30.0
    model = models.MSACModel(
        models.backbone(config, pool=False),
        len(classes),
        config.model.embedding_dim,
        scale,
        config.msac.max_speakers,
        GENDERS,
        discriminator_hidden=config.model.discriminator_hidden,
        control=config.msac.control,
    )
    return Method(
        config.method,
        model,
        terms_from_config(config, terms.TERMS | TERMS),
        schedules=schedules.build(config.schedules),
        model_schedules={"grl_lambda": "grl", "speaker_lambda": "speaker_grl"},
    )
