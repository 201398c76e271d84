"""Emo-DNA (Ye et al., ACM MM 2023): contrastive emotion decoupling + dual-level
emotion alignment with adaptive-threshold pseudo-labels.

    python -m jaxser.train --config configs/emodna.py

The paper's public text states the two ideas; everything below marked
[decision] is jaxser's choice, each a config option (alternatives named).

Model [decision] (`config.model`): the shared backbone (`backbone`: "cnn", or
"timnet" on 39 MFCC, `data.features=mfcc`) feeds two projection MLPs,
emotion z_e and corpus z_c (`proj_dim`=128, `proj_hidden`=256); the emotion
classifier and, behind gradient reversal, the corpus discriminator sit on z_e;
a corpus classifier sits on z_c without reversal, so z_c holds the corpus.

Loss terms (`config.terms.<name> = dict(fn=..., weight=..., options)`; weight 0
removes a term):
- `cls` = "cross_entropy": CE on source labels, `label_smoothing`=0.1.
- `cd` = "contrastive_decoupling" [decision]: supervised contrastive loss
  anchored on z_e; positives = same emotion (source labels and accepted target
  pseudo-labels, either corpus); negatives = the other z_e and **all z_c**;
  `temperature`=0.1.
- `orth` = "orthogonality" (weight 0: off) [decision, the alternative to
  `cd`]: ||Z_e^T Z_c||_F^2 / N^2 over the batch.
- `adv` = "adversarial": corpus discriminator BCE through gradient reversal
  (corpus-level alignment); strength `config.schedules.grl`.
- `corpus` = "corpus_classification": BCE of the corpus classifier on z_c.
- `pl` = "pseudo_label" (class-level alignment): CE on target samples whose
  confidence passes their class's threshold, averaged over the target batch.
- `div` = "diversity" (weight 1) [decision, not in the paper]: sum_c pbar_c
  log pbar_c of the target batch's mean prediction, against a collapse onto
  few classes (the role of FreeMatch's fairness loss, which the paper's
  Emo-DNA does not have). Chosen on the development tasks (docs/results.md,
  2026-12-02): in binary arousal, synth_emovo <-> synth_enterface, it lifted
  Emo-DNA from 0.735 to 0.840 mean UAR and ended the one-class collapse of
  a seed. It assumes the target's classes are not far from balanced;
  `--config.terms.div.weight=0` gives the paper's loss.

Pseudo-labels (`config.emodna`, shared by `cd`, `pl` and the monitor):
- `threshold` [decision]: "freematch" (self-adaptive; global EMA of mean max
  confidence times class-wise EMA of mean predictions normalised by its max;
  both start at 1/C), "flexmatch" (class-wise learning status, base
  `fixed_threshold`) or "fixed" (`fixed_threshold`=0.95 for every class).
  Thresholds are method state, updated inside the step from the target
  batch's predictions.
- `threshold_momentum` [decision]: FreeMatch's 0.999 is an EMA time constant
  of ~1000 steps, made for runs of ~10^6 steps; in a 300-step run the
  thresholds would never leave 1/C and every target utterance would be
  accepted from the end of warm-up. So the default `0` derives the momentum
  from the run length: the time constant is `threshold_horizon`=0.1 of the
  steps (the warm-up's length), m = 1 - 1 / (horizon * steps) (0.967 for 300
  steps), at most 0.999; a positive value (e.g. 0.999, the paper's) is used
  as given.
- `pl_warmup` [decision] = 0.1: no pseudo-label (in `pl` or `cd`) during the
  first 10% of steps.

Monitoring (logged at each evaluation, never used for selection): the share
of target utterances accepted as pseudo-labels, their accuracy against the
evaluation labels, and the per-class thresholds.
"""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxser import models
from jaxser.config import ConfigError
from jaxser.losses import adversarial, contrastive
from jaxser.methods import schedules, terms, thresholds
from jaxser.methods.base import Method, terms_from_config

SECTION = "emodna"


def pseudo_labels(out, ctx) -> tuple[jax.Array, jax.Array]:
    """Target pseudo-labels and which are accepted (thresholds from the method state,
    nothing accepted during warm-up). No gradient flows through them."""
    probs = jax.nn.softmax(jax.lax.stop_gradient(out["target"]["logits"]))
    th = thresholds.thresholds(
        ctx.state, ctx.options.threshold, ctx.num_classes, ctx.options.fixed_threshold
    )
    label, accepted = thresholds.accept(probs, th)
    return label, accepted & (ctx.progress >= ctx.options.pl_warmup)


def contrastive_decoupling(out, batch, ctx, *, temperature: float = 0.1):
    label_t, accepted = pseudo_labels(out, ctx)
    z_e = jnp.concatenate([out["source"]["z_e"], out["target"]["z_e"]])
    z_c = jnp.concatenate([out["source"]["z_c"], out["target"]["z_c"]])
    labels = jnp.concatenate([batch["source"]["label"], label_t])
    valid = jnp.concatenate([jnp.ones_like(accepted), accepted])
    loss = contrastive.supervised_contrastive(
        z_e, labels, valid, temperature, extra_negatives_MxD=z_c
    )
    return loss, {"accepted": accepted.mean()}


def orthogonality(out, batch, ctx):
    z_e = jnp.concatenate([out["source"]["z_e"], out["target"]["z_e"]])
    z_c = jnp.concatenate([out["source"]["z_c"], out["target"]["z_c"]])
    return contrastive.orthogonality(z_e, z_c)


def corpus_classification(out, batch, ctx):
    return adversarial.domain_adversarial(
        out["source"]["corpus_logits"], out["target"]["corpus_logits"]
    )


def pseudo_label(out, batch, ctx):
    label, accepted = pseudo_labels(out, ctx)
    ce = -jnp.take_along_axis(jax.nn.log_softmax(out["target"]["logits"]), label[:, None], 1)[:, 0]
    loss = jnp.sum(jnp.where(accepted, ce, 0.0)) / ce.shape[0]
    return loss, {"accepted": accepted.mean()}


TERMS = {
    "contrastive_decoupling": contrastive_decoupling,
    "orthogonality": orthogonality,
    "corpus_classification": corpus_classification,
    "pseudo_label": pseudo_label,
}


def validate(config) -> None:
    o = config.emodna
    if o.threshold not in thresholds.KINDS:
        raise ConfigError(
            f"unknown config.emodna.threshold={o.threshold!r}; known: {list(thresholds.KINDS)}"
        )
    for key in ("pl_warmup", "threshold_horizon", "fixed_threshold"):
        if not 0.0 <= o[key] <= 1.0:
            raise ConfigError(f"config.emodna.{key}={o[key]} must be in [0, 1]")
    if not 0.0 <= o.threshold_momentum < 1.0:
        raise ConfigError(
            f"config.emodna.threshold_momentum={o.threshold_momentum} must be in [0, 1) "
            "(0: derived from the run length)"
        )


def threshold_momentum(config) -> float:
    """The thresholds' EMA momentum: `emodna.threshold_momentum` when positive, else
    derived from the run length so the EMA's time constant is
    `emodna.threshold_horizon` of the steps: m = 1 - 1 / (horizon * steps), at most 0.999."""
    opts = config.emodna
    if opts.threshold_momentum > 0:
        return float(opts.threshold_momentum)
    steps = max(1.0, opts.threshold_horizon * config.train.steps)
    return min(0.999, 1.0 - 1.0 / steps)


def build(config, classes: tuple[str, ...], num_target: int | None) -> Method:
    num_classes = len(classes)
    m, opts = config.model, config.emodna
    model = models.EmoDNAModel(
        models.backbone(config), num_classes, m.proj_dim, m.proj_hidden, m.discriminator_hidden
    )
    kind = opts.threshold
    momentum = threshold_momentum(config)

    def update_state(state, out, batch, ctx):
        probs = jax.nn.softmax(out["target"]["logits"])
        return thresholds.update(
            state,
            probs,
            batch["target"]["index"],
            kind,
            momentum,
            opts.fixed_threshold,
        )

    def monitor(state, target: dict) -> dict:
        probs, labels = target["probs"], target["labels"]
        th = np.asarray(thresholds.thresholds(state, kind, num_classes, opts.fixed_threshold))
        pred, conf = probs.argmax(1), probs.max(1)
        accepted = conf >= th[pred]
        logs = {
            "pseudo/accepted_share": float(accepted.mean()),
            "pseudo/accuracy": float((pred == labels)[accepted].mean())
            if accepted.any()
            else float("nan"),
        }
        logs.update({f"pseudo/threshold_{c}": float(t) for c, t in enumerate(th)})
        return logs

    return Method(
        "emodna",
        model,
        terms_from_config(config, terms.TERMS | TERMS),
        schedules=schedules.build(config.schedules),
        model_schedules={"grl_lambda": "grl"},
        options=ml_collections.FrozenConfigDict(opts),
        init_state=lambda: thresholds.init(kind, num_classes, num_target or 1),
        update_state=update_state,
        monitor=monitor,
    )
