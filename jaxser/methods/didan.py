"""DIDAN (Zhao et al., ICASSP 2023) and LIDAN (the journal extension): a regression
CNN with implicit distribution alignment (IDA).

    python -m jaxser.train --config configs/didan.py
    python -m jaxser.train --config configs/lidan.py

Model (`models.RegressionModel`): the backbone, then FC1 and FC2
(`model.fc_dims`=(256, 128), ReLU, dropout) and FC3, the output with one unit
per emotion.

Loss terms (`config.terms.<name> = dict(fn=..., weight=..., options)`; weight 0
removes a term):
- `reg` = "mse" [decision]: mean squared error of FC3 against one-hot source
  labels; switch `fn="cross_entropy"` (then FC3 are logits; set
  `didan.scores=softmax`).
- `ida` = "ida_marginal": all source rows of layer `layer` reconstruct all
  target rows (jaxser/losses/ida.py).
- `ida_class` = "ida_class": per emotion, source rows of that emotion
  reconstruct the target rows pseudo-labelled with it, at layer `layer`.
- `ida_group` = "ida_group" (LIDAN): the same per coarse group of emotions
  (`groups`, mapped onto the task's classes from the term's `Context`), at
  layer `layer`. Groups [decision]: "/"-separated groups of ","-separated
  emotions, default high vs low arousal,
  "angry,fear,happy,surprise/boredom,calm,disgust,neutral,sad"; emotions the
  task lacks are dropped, and every task emotion must be in exactly one group.
  In a binary label space (`data.label_space`) the classes are already coarse
  groups: each class is its own group, and `ida_group` equals `ida_class`.

IDA options shared by the terms (`config.didan`) [decision]
(jaxser/losses/ida.py): closed-form ridge coefficients per batch,
Z = H_t H_s^T (H_s H_s^T + mu I)^-1, `mu`=0.1; loss = the ridge objective
(residual + mu ||Z||^2) relative to ||H_t||^2 with the gradient through
`stop_gradient(Z)`, exact by the envelope theorem (the penalty is part of the
loss so that it is exact). Switches: `sparse`=True (ISTA, `ista_steps`=50, L1
weight mu), `relative`=False (absolute: per target row).

Target pseudo-labels [decision] (conditional forms only; no gradient through
them): `didan.scores`="output" reads the regression outputs of FC3 (clipped to
[0, 1]) as class scores, "softmax" their softmax (for CE). A target row joins
the class (group) with the highest (summed) score if that score is at least
`didan.confidence`=0.5, and only after the first `didan.warmup`=0.1 of the
steps. Classes (groups) absent from either side of a batch are left out.
Source batches are class-balanced (`data.balanced`=True) so every class is
there.

DIDAN = reg + marginal and class-conditional IDA on the output layer (FC3;
switch `terms.ida.layer=fc2 terms.ida_class.layer=fc2`, the last hidden
layer). LIDAN = reg + marginal IDA at FC1 + coarse-group IDA at FC2 + fine
(class) IDA at FC3.

Caveat on the output layer (tests/test_ida.py; figures in docs/results.md):
FC3 has one unit per emotion, so a source batch of b_s >= C rows spans it and
reconstructs any target row almost exactly. Output-layer IDA then acts mostly
through the ridge penalty; IDA at FC2 or FC1 (LIDAN's marginal term) has
b_s < width.
`python tools/ida_probe.py <workdir>` measures this on a trained run, layer by
layer (docs/results.md).

Monitoring (logged at each evaluation, never for selection): the share of
target utterances past the confidence floor and their accuracy.
"""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxser import models
from jaxser.config import ConfigError, names
from jaxser.data import labels
from jaxser.losses import classification
from jaxser.losses import ida as ida_lib
from jaxser.methods import schedules, terms
from jaxser.methods.base import Method, terms_from_config

SECTION = "didan"
LAYERS = ("fc1", "fc2", "fc3")
SCORES = ("output", "softmax")
# LIDAN's default coarse groups: high vs low arousal, the halves of labels.BINARY
AROUSAL_GROUPS = "/".join(",".join(half) for half in labels.BINARY["arousal"].values())


def mse(out, batch, ctx):
    """Regression of the outputs onto one-hot source labels (mean squared error)."""
    return classification.one_hot_mse(out["source"]["logits"], batch["source"]["label"])


def class_scores(logits_BxC: jax.Array, scores: str) -> jax.Array:
    """Per-class scores of target rows: regression outputs clipped to [0, 1], or softmax."""
    logits = jax.lax.stop_gradient(logits_BxC).astype(jnp.float32)
    return jnp.clip(logits, 0.0, 1.0) if scores == "output" else jax.nn.softmax(logits)


def target_membership(out, ctx, groups_CxG: jax.Array) -> jax.Array:
    """[M, G] one-hot group of each confident target row (zero rows: not confident or
    still in warm-up). A group's score is the sum of its classes' scores."""
    g = class_scores(out["target"]["logits"], ctx.options.scores) @ groups_CxG
    confident = (g.max(-1) >= ctx.options.confidence) & (ctx.progress >= ctx.options.warmup)
    return jax.nn.one_hot(g.argmax(-1), groups_CxG.shape[1]) * confident[:, None]


def _ida_options(ctx) -> dict:
    o = ctx.options
    return {"relative": o.relative, "sparse": o.sparse, "ista_steps": o.ista_steps}


def ida_marginal(out, batch, ctx, *, layer: str = "fc3"):
    """Marginal IDA: all source rows of `layer` reconstruct all target rows."""
    return ida_lib.ida(
        out["source"][layer], out["target"][layer], ctx.options.mu, **_ida_options(ctx)
    )


def _conditional(out, batch, ctx, layer: str, groups_CxG: jax.Array):
    source = jax.nn.one_hot(batch["source"]["label"], ctx.num_classes) @ groups_CxG
    target = target_membership(out, ctx, groups_CxG)
    loss = ida_lib.conditional_ida(
        out["source"][layer],
        out["target"][layer],
        source,
        target,
        ctx.options.mu,
        **_ida_options(ctx),
    )
    return loss, {"confident": target.sum(-1).mean()}


def ida_class(out, batch, ctx, *, layer: str = "fc3"):
    """Class-conditional IDA: source rows of class c reconstruct target rows
    pseudo-labelled c."""
    groups = jnp.eye(ctx.num_classes, dtype=jnp.float32)
    return _conditional(out, batch, ctx, layer, groups)


def ida_group(out, batch, ctx, *, layer: str = "fc2", groups: str = AROUSAL_GROUPS):
    """Coarse-group IDA: the `groups` over the task's classes (a constant, built
    when the step is traced)."""
    return _conditional(out, batch, ctx, layer, jnp.asarray(group_matrix(groups, ctx.classes)))


TERMS = {
    "mse": mse,
    "ida_marginal": ida_marginal,
    "ida_class": ida_class,
    "ida_group": ida_group,
}


def group_matrix(spec: str, classes: tuple[str, ...], key: str = "groups") -> np.ndarray:
    """[C, G] class -> group one-hot matrix from "a,b/c,d" (groups without any of the
    task's classes are dropped). Every class must be in exactly one group; errors
    name the option as `key`. In a binary label space the classes are already
    coarse groups of emotions: each class is its own group [decision]."""
    if not set(classes) & set(labels.EMOTIONS):
        return np.eye(len(classes), dtype=np.float32)
    groups = [list(names(g)) for g in spec.split("/")]
    groups = [[e for e in g if e in classes] for g in groups]
    groups = [g for g in groups if g]
    for c in classes:
        n = sum(c in g for g in groups)
        if n != 1:
            raise ConfigError(
                f"{key}={spec!r} puts the task's emotion {c!r} in {n} groups; "
                f"each of {list(classes)} must be in exactly one"
            )
    if len(groups) < 2:
        raise ConfigError(
            f"{key}={spec!r} leaves {len(groups)} group(s) of the task's emotions "
            f"{list(classes)}; coarse-group IDA needs at least 2"
        )
    m = np.zeros((len(classes), len(groups)), np.float32)
    for j, g in enumerate(groups):
        for c in g:
            m[classes.index(c), j] = 1.0
    return m


def validate(config) -> None:
    o = config.didan
    for name, entry in config.terms.items():
        if entry.fn in ("ida_marginal", "ida_class", "ida_group") and "layer" in entry:
            if entry.layer not in LAYERS:
                raise ConfigError(
                    f"unknown config.terms.{name}.layer={entry.layer!r}; known: {list(LAYERS)}"
                )
    if o.scores not in SCORES:
        raise ConfigError(f"unknown config.didan.scores={o.scores!r}; known: {list(SCORES)}")
    if "reg" in config.terms and config.terms.reg.fn == "cross_entropy" and o.scores == "output":
        raise ConfigError(
            "config.terms.reg.fn=cross_entropy makes FC3 logits, not regression outputs: "
            "set --config.didan.scores=softmax"
        )


def build(config, classes: tuple[str, ...], num_target: int | None) -> Method:
    m, opts = config.model, config.didan
    model = models.RegressionModel(
        models.backbone(config), len(classes), tuple(m.fc_dims), m.dropout
    )
    method_terms = terms_from_config(config, terms.TERMS | TERMS)
    for name, term in method_terms.items():
        if term.fn is ida_group:  # bad groups fail here, before any work
            spec = term.options.get("groups", AROUSAL_GROUPS)
            group_matrix(spec, classes, key=f"config.terms.{name}.groups")

    def monitor(state, target: dict) -> dict:
        scores = np.asarray(class_scores(jnp.asarray(target["logits"]), opts.scores))
        confident = scores.max(1) >= opts.confidence
        correct = scores.argmax(1) == target["labels"]
        return {
            "pseudo/confident_share": float(confident.mean()),
            "pseudo/accuracy": float(correct[confident].mean()) if confident.any() else np.nan,
        }

    return Method(
        config.method,
        model,
        method_terms,
        schedules=schedules.build(config.schedules),
        options=ml_collections.FrozenConfigDict(opts),
        monitor=monitor,
    )
