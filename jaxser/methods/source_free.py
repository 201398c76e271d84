"""Source-free adaptation: SHOT, NRC, AaD and ECAN, on a source model.

In source-free adaptation the labelled source corpus is gone when the target
is seen: a source model is trained on the source alone (stage 1, method
`source_model`: no target batch reaches it, not even through BatchNorm
statistics) and adapted with unlabelled target batches only (stage 2, these
methods; the step refuses a batch with a source half). jaxser/experiment.py
trains stage 1 once per (source corpus, label space, classes, seed, stage
config) and shares it; `--config.source_model=DIR` uses a given one instead.

Every method starts from the source model's parameters, on its model (backbone
-> bottleneck -> classifier), and keeps two memory banks as method state:

- `features`: N_t x D, the L2-normalised bottleneck features of every target
  utterance the method adapts on, row = the utterance's `index`;
- `scores`: N_t x C, their softmax predictions.

Both are filled by one prediction pass over the target before the first step
(`fill_state`) and the batch's rows are overwritten at every step, from the
step's own forward pass without gradient; the terms look neighbours up in the
banks with the batch's rows already written (as the references do), and a
sample is never its own neighbour (its row is masked, so duplicates of its
feature elsewhere still count). Neighbours are found by cosine similarity of
the feature bank.

Methods (each a config file; their loss terms are the config's entries):

- `shot` (Liang et al. 2020): the classifier frozen; information maximisation
  (`ent`: mean entropy, `div`: sum_c pbar_c log pbar_c of the batch-mean
  prediction); `pl`: CE (weight cls_par = 0.3) on self-supervised
  pseudo-labels, the nearest prediction-weighted centroid in feature space plus
  one k-means step (`losses.neighbours.centroid_labels`), refreshed on the host
  every epoch of the target (`source_free.refresh_every` = 0) from the whole
  target's predictions.
- `nrc` (Yang et al. 2021): K = 5 neighbours, KK = 5 neighbours of each;
  a neighbour that has the sample among its own KK neighbours (reciprocal)
  weighs 1, others and the KK expansion 0.1; plus `div`.
- `aad` (Yang et al. 2022): attract the K = 5 neighbours' scores, disperse the
  batch's predictions with weight alpha(t) = (1 + 10 t)^-beta, beta = 5
  (`schedules.alpha`, kind inverse_power).
- `ecan` (Zhao et al., ICASSP 2024): L = L_div + lambda L_ncl + beta L_scl,
  lambda = beta = 1 [decisions, the paper gives no code]:
  - `ncl`: InfoNCE in prediction space with temperature 0.1: the anchor is the
    sample's softmax prediction, its positives the score-bank rows of its K = 5
    bank neighbours, its negatives the other predictions of the batch (cosine
    similarities). Options: `space="feature"` (the bottleneck feature against
    the feature-bank rows of the neighbours and the batch's features);
    `fn="neighbour_attract"` with a `disperse` entry is the AaD form.
  - `scl`: SupCon on the L2-normalised bottleneck features of the batch,
    temperature 0.07, with pseudo-labels = argmax of the score bank at the
    batch's rows as stored before this step (`pseudo_labels="bank"`), or
    argmax of the mean score of the K bank neighbours
    (`pseudo_labels="neighbours"`).
  - `div`: as SHOT's.

Shared defaults (`configs/base.py`, `source_free_config`): 300 stage-1 steps,
300 adaptation steps, Adam at learning rate 1e-4, ten times below source
training (chosen on development tasks, docs/results.md).

Options of every source-free method (`config.source_free`):
- `freeze_classifier`: the classifier's learning rate is 0 (SHOT: True; NRC,
  AaD and ECAN train it, as their references do);
- `backbone_lr`: learning-rate multiplier of the backbone (the references
  adapt it 10x slower than the bottleneck and the classifier: 0.1);
- `refresh_every`: SHOT's pseudo-label refresh in steps (0: one epoch of the
  target, ceil(N_t / batch)).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxser import models
from jaxser.config import ConfigError, keyword_options
from jaxser.losses import classification, neighbours
from jaxser.losses.contrastive import l2_normalize, supervised_contrastive
from jaxser.methods import schedules, terms
from jaxser.methods.base import Method, terms_from_config

SECTION = "source_free"
NAMES = ("shot", "nrc", "aad", "ecan")
SPACES = ("prediction", "feature")
PSEUDO = ("bank", "neighbours")


def written_banks(state: dict, out: dict, batch: dict) -> tuple[jax.Array, jax.Array]:
    """(feature bank, score bank) with the batch's rows overwritten by this step's
    outputs, without gradient."""
    t, idx = jax.lax.stop_gradient(out["target"]), batch["target"]["index"]
    features = state["features"].at[idx].set(l2_normalize(t["features"]))
    scores = state["scores"].at[idx].set(jax.nn.softmax(t["logits"]))
    return features, scores


def _neighbours(out, batch, ctx, k: int):
    """(feature bank, score bank, indices B x k of each sample's bank neighbours)."""
    features, scores = written_banks(ctx.state, out, batch)
    query = l2_normalize(jax.lax.stop_gradient(out["target"]["features"]))
    return features, scores, neighbours.nearest(query, features, batch["target"]["index"], k)


def shot_pseudo_label(out, batch, ctx):
    """CE of target predictions against SHOT's centroid pseudo-labels."""
    labels = ctx.state["pseudo"][batch["target"]["index"]]
    return classification.cross_entropy(out["target"]["logits"], labels)


def nrc(out, batch, ctx, *, k: int = 5, kk: int = 5, weak: float = 0.1):
    """NRC's neighbourhood term: K neighbours (reciprocal ones weigh 1, others
    `weak`) and the KK neighbours of each (weight `weak`). The weights are the
    paper's 1 / 0.1, as in the reference repository's office-home script: its
    `train_tar.py` writes 0.1 through a view into every neighbour weight, so
    there, as published, no reciprocal neighbour weighs 1."""
    features, scores, near = _neighbours(out, batch, ctx, k)  # B x K
    b = near.shape[0]
    flat = near.reshape(-1)
    far = neighbours.nearest(features[flat], features, flat, kk).reshape(b, k, kk)
    reciprocal = jnp.any(far == batch["target"]["index"][:, None, None], axis=-1)
    weight = jnp.where(reciprocal, 1.0, weak)
    probs = jax.nn.softmax(out["target"]["logits"])
    loss = neighbours.nrc(probs, scores[near], weight, scores[far.reshape(b, k * kk)], weak)
    return loss, {"reciprocal_share": jnp.mean(reciprocal)}


def neighbour_attract(out, batch, ctx, *, k: int = 5):
    """AaD's attraction of each prediction to its K neighbours' scores."""
    _, scores, near = _neighbours(out, batch, ctx, k)
    return neighbours.attract(jax.nn.softmax(out["target"]["logits"]), scores[near])


def batch_disperse(out, batch, ctx):
    """AaD's dispersion of the batch's predictions (weight: schedule `alpha`)."""
    return neighbours.disperse(jax.nn.softmax(out["target"]["logits"]))


def ecan_ncl(out, batch, ctx, *, k: int = 5, temperature: float = 0.1, space: str = "prediction"):
    """ECAN's nearest-neighbour contrastive term (InfoNCE, K bank positives)."""
    features, scores, near = _neighbours(out, batch, ctx, k)
    if space == "prediction":
        return neighbours.neighbour_infonce(
            jax.nn.softmax(out["target"]["logits"]), scores[near], temperature
        )
    return neighbours.neighbour_infonce(out["target"]["features"], features[near], temperature)


def ecan_scl(
    out, batch, ctx, *, temperature: float = 0.07, pseudo_labels: str = "bank", k: int = 5
):
    """ECAN's supervised contrastive term on score-bank pseudo-labels."""
    idx = batch["target"]["index"]
    if pseudo_labels == "bank":
        labels = jnp.argmax(ctx.state["scores"][idx], -1)
    else:
        _, scores, near = _neighbours(out, batch, ctx, k)
        labels = jnp.argmax(scores[near].mean(1), -1)
    z = l2_normalize(out["target"]["features"])
    return supervised_contrastive(z, labels, jnp.ones(idx.shape, bool), temperature)


TERMS = {
    "shot_pseudo_label": shot_pseudo_label,
    "nrc": nrc,
    "neighbour_attract": neighbour_attract,
    "batch_disperse": batch_disperse,
    "ecan_ncl": ecan_ncl,
    "ecan_scl": ecan_scl,
}
# term function -> its options whose value must be one of these
CHOICES = {"ecan_ncl": {"space": SPACES}, "ecan_scl": {"pseudo_labels": PSEUDO}}
NEIGHBOUR_OPTIONS = ("k", "kk")


def validate(config) -> None:
    s = config.source_free
    if not isinstance(s.freeze_classifier, bool):
        raise ConfigError(
            f"config.source_free.freeze_classifier must be True or False, "
            f"not {s.freeze_classifier!r}"
        )
    if s.backbone_lr < 0 or s.refresh_every < 0:
        raise ConfigError("config.source_free.backbone_lr and refresh_every must be >= 0")
    for name, entry in config.terms.items():
        for option, known in CHOICES.get(entry.fn, {}).items():
            if option in entry and entry[option] not in known:
                raise ConfigError(
                    f"unknown config.terms.{name}.{option}={entry[option]!r}; known: {list(known)}"
                )
        for option in NEIGHBOUR_OPTIONS:
            if option in entry and int(entry[option]) < 1:
                raise ConfigError(f"config.terms.{name}.{option} must be >= 1")


def _most_neighbours(config) -> tuple[int, str]:
    """(the largest neighbour count a term of weight > 0 asks for, where it is set)."""
    counts = [(0, "")]
    for name, entry in config.terms.items():
        if float(entry.weight) == 0.0 or entry.fn not in TERMS:
            continue
        options = keyword_options(TERMS[entry.fn]) | dict(entry)
        counts += [
            (int(options[o]), f"config.terms.{name}.{o}") for o in NEIGHBOUR_OPTIONS if o in options
        ]
    return max(counts)


def build(config, classes: tuple[str, ...], num_target: int | None) -> Method:
    k, where = _most_neighbours(config)
    if num_target is None:  # a model to predict with: the banks are never read
        num_target = 1
    elif k and num_target < k + 1:
        raise ConfigError(
            f"{where} = {k} neighbours need at least {k + 1} target utterances to adapt on; "
            f"the target split has {num_target}"
        )
    s = config.source_free
    model = models.SERModel(models.backbone(config), len(classes), config.model.bottleneck_dim)
    term_fns = terms_from_config(config, terms.TERMS | TERMS)
    shot = any(t.fn is shot_pseudo_label for t in term_fns.values())
    dim, c = config.model.bottleneck_dim, len(classes)

    def init_state():
        state = {
            "features": jnp.zeros((num_target, dim), jnp.float32),
            "scores": jnp.zeros((num_target, c), jnp.float32),
        }
        if shot:
            state["pseudo"] = jnp.zeros((num_target,), jnp.int32)
        return state

    def update_state(state, out, batch, ctx):
        features, scores = written_banks(state, out, batch)
        return state | {"features": features, "scores": scores}

    def fill_state(state, target):
        new = state | {
            "features": jnp.asarray(l2_normalize(jnp.asarray(target["features"], jnp.float32))),
            "scores": jnp.asarray(target["probs"], jnp.float32),
        }
        if shot:
            new["pseudo"] = pseudo_labels(target)
        return new

    def refresh(state, target, step):
        return state | {"pseudo": pseudo_labels(target)}

    rules = []
    if s.freeze_classifier:
        rules.append(("^classifier/", 0.0))
    if s.backbone_lr != 1.0:
        rules.append(("^backbone/", float(s.backbone_lr)))
    every = s.refresh_every or math.ceil(num_target / config.train.batch_size)
    return Method(
        config.method,
        model,
        term_fns,
        halves="target",
        schedules=schedules.build(config.schedules),
        lr_multipliers=tuple(rules),
        init_state=init_state,
        update_state=update_state,
        fill_state=fill_state,
        refresh_every=every if shot else 0,
        refresh=refresh if shot else None,
        monitor=monitor,
    )


def pseudo_labels(target: dict) -> jax.Array:
    """SHOT's centroid pseudo-labels of every target utterance."""
    return neighbours.centroid_labels(
        jnp.asarray(target["features"], jnp.float32), jnp.asarray(target["probs"], jnp.float32)
    ).astype(jnp.int32)


def monitor(state: dict, target: dict) -> dict:
    """For monitoring only (never model selection): how often the score bank's
    argmax and a sample's 5 bank neighbours carry its true class, and SHOT's
    pseudo-label accuracy. `target`: the evaluation's target predictions and labels."""
    labels = np.asarray(target["labels"])
    scores, features = np.asarray(state["scores"]), np.asarray(state["features"])
    if len(labels) != len(scores):  # held_out: the test split is not the banked one
        return {}
    logs = {"bank/score_accuracy": float(np.mean(scores.argmax(1) == labels))}
    rows = jnp.asarray(features)
    near = np.asarray(neighbours.nearest(rows, rows, jnp.arange(len(labels)), 5))
    logs["bank/neighbour_purity"] = float(np.mean(labels[near] == labels[:, None]))
    if "pseudo" in state:
        logs["pseudo/accuracy"] = float(np.mean(np.asarray(state["pseudo"]) == labels))
    return logs
