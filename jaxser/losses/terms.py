"""Loss terms: the registry a config picks from by name.

A term is a pure function `term(out, batch, ctx) -> scalar` or `(scalar, aux)`:
- `out["source"]`, `out["target"]`: the model's outputs on the two halves of the
  batch (dicts of arrays: "features", "logits", "domain_logits", ...);
- `batch`: the training batch pytree (the target half has no label);
- `ctx`: a `Context` (step, progress in [0, 1], method state, options, the
  task's class names).
Terms adapt model outputs to the primitives of classification.py,
adversarial.py and discrepancy.py, which are the tested maths.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxser.losses import adversarial, classification, discrepancy


class Context(NamedTuple):
    step: jax.Array
    progress: jax.Array  # step / total steps, in [0, 1]
    state: Any  # the method's state pytree
    options: Any  # the config's `loss` section (static Python values)
    classes: tuple[str, ...]  # the task's emotion names, in label order

    @property
    def num_classes(self) -> int:
        return len(self.classes)


Term = Callable[[dict, dict, Context], Any]


def cross_entropy(out, batch, ctx):
    """Source classification: CE (label smoothing from options) on source labels."""
    return classification.cross_entropy(
        out["source"]["logits"], batch["source"]["label"], ctx.options.label_smoothing
    )


def adversarial_corpus(out, batch, ctx):
    """Corpus discriminator BCE; the model applies gradient reversal before it."""
    return adversarial.domain_adversarial(
        out["source"]["domain_logits"], out["target"]["domain_logits"]
    )


def mmd(out, batch, ctx):
    """Multi-kernel MMD between source and target features."""
    return discrepancy.mk_mmd(
        out["source"]["features"],
        out["target"]["features"],
        ctx.options.mmd_kernels,
        ctx.options.mmd_kernel_mul,
    )


def coral(out, batch, ctx):
    """Deep CORAL between source and target features."""
    return discrepancy.coral(out["source"]["features"], out["target"]["features"])


def lmmd(out, batch, ctx):
    """Local MMD with source labels and target soft labels (no gradient through them)."""
    probs = jax.nn.softmax(jax.lax.stop_gradient(out["target"]["logits"]))
    onehot = jax.nn.one_hot(batch["source"]["label"], ctx.num_classes)
    return discrepancy.lmmd(
        out["source"]["features"],
        out["target"]["features"],
        onehot,
        probs,
        ctx.options.mmd_kernels,
        ctx.options.mmd_kernel_mul,
    )


def target_entropy(out, batch, ctx):
    """Entropy of target predictions (minimised)."""
    return classification.entropy(out["target"]["logits"])


def target_diversity(out, batch, ctx):
    """Diversity of target predictions: negative entropy of their batch mean
    (minimised: counters a collapse onto few classes)."""
    return classification.diversity(out["target"]["logits"])


TERMS: dict[str, Term] = {
    "cross_entropy": cross_entropy,
    "adversarial": adversarial_corpus,
    "mmd": mmd,
    "coral": coral,
    "lmmd": lmmd,
    "entropy": target_entropy,
    "diversity": target_diversity,
}


def register(name: str, fn: Term) -> Term:
    """Adds a term to the registry (methods register their own terms here)."""
    if name in TERMS and TERMS[name] is not fn:
        raise ValueError(f"loss term {name!r} is already registered")
    TERMS[name] = fn
    return fn


def get(name: str) -> Term:
    if name not in TERMS:
        raise KeyError(f"unknown loss function {name!r}; known: {sorted(TERMS)}")
    return TERMS[name]


def as_scalar_and_aux(value) -> tuple[jax.Array, dict]:
    if isinstance(value, tuple):
        return jnp.asarray(value[0]), dict(value[1])
    return jnp.asarray(value), {}
