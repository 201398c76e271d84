"""Loss terms every method may use: adapters from model outputs to the maths of
jaxser/losses/.

A term is `fn(out, batch, ctx, **options) -> scalar` or `(scalar, aux dict)`:
- `out["source"]`, `out["target"]`: the model's outputs on the two halves of the
  batch (dicts of arrays: "features", "logits", "domain_logits", ...; a
  target-only method has only `out["target"]`);
- `batch`: the training batch pytree (the target half has no label);
- `ctx`: a `jaxser.methods.base.Context`;
- options: keyword-only, with defaults; a config sets them in the term's
  entry, e.g. `c.terms.cls = dict(fn="cross_entropy", weight=1.0,
  label_smoothing=0.1)`.
`TERMS` is the static registry of these; a method module adds its own terms in
its own `TERMS`.
"""

import jax

from jaxser.losses import adversarial, classification, discrepancy


def cross_entropy(out, batch, ctx, *, label_smoothing: float = 0.1):
    """Source classification: CE on source labels, with label smoothing."""
    return classification.cross_entropy(
        out["source"]["logits"], batch["source"]["label"], label_smoothing
    )


def adversarial_corpus(out, batch, ctx):
    """Corpus discriminator BCE; the model applies gradient reversal before it."""
    return adversarial.domain_adversarial(
        out["source"]["domain_logits"], out["target"]["domain_logits"]
    )


def mmd(out, batch, ctx, *, kernels: int = 5, kernel_mul: float = 2.0):
    """Multi-kernel MMD between source and target features."""
    return discrepancy.mk_mmd(
        out["source"]["features"], out["target"]["features"], kernels, kernel_mul
    )


def coral(out, batch, ctx):
    """Deep CORAL between source and target features."""
    return discrepancy.coral(out["source"]["features"], out["target"]["features"])


def lmmd(out, batch, ctx, *, kernels: int = 5, kernel_mul: float = 2.0):
    """Local MMD with source labels and target soft labels (no gradient through them)."""
    probs = jax.nn.softmax(jax.lax.stop_gradient(out["target"]["logits"]))
    onehot = jax.nn.one_hot(batch["source"]["label"], ctx.num_classes)
    return discrepancy.lmmd(
        out["source"]["features"], out["target"]["features"], onehot, probs, kernels, kernel_mul
    )


def target_entropy(out, batch, ctx):
    """Entropy of target predictions (minimised)."""
    return classification.entropy(out["target"]["logits"])


def target_diversity(out, batch, ctx):
    """Diversity of target predictions: negative entropy of their batch mean
    (minimised: counters a collapse onto few classes)."""
    return classification.diversity(out["target"]["logits"])


TERMS = {
    "cross_entropy": cross_entropy,
    "adversarial": adversarial_corpus,
    "mmd": mmd,
    "coral": coral,
    "lmmd": lmmd,
    "entropy": target_entropy,
    "diversity": target_diversity,
}
