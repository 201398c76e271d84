"""Classification losses on logits."""

import jax
import jax.numpy as jnp
import optax


def cross_entropy(
    logits_BxC: jax.Array, labels_B: jax.Array, label_smoothing: float = 0.0
) -> jax.Array:
    """Mean softmax cross-entropy against integer labels, with label smoothing.

    Smoothed targets: (1 - eps) * one_hot + eps / C.
    """
    num_classes = logits_BxC.shape[-1]
    targets = optax.smooth_labels(jax.nn.one_hot(labels_B, num_classes), label_smoothing)
    return jnp.mean(optax.softmax_cross_entropy(logits_BxC, targets))


def one_hot_mse(outputs_BxC: jax.Array, labels_B: jax.Array) -> jax.Array:
    """Mean squared error of outputs regressed onto one-hot labels (DIDAN's `reg`)."""
    y = jax.nn.one_hot(labels_B, outputs_BxC.shape[-1])
    return jnp.mean((outputs_BxC.astype(jnp.float32) - y) ** 2)


def entropy(logits_BxC: jax.Array) -> jax.Array:
    """Mean Shannon entropy of the softmax predictions (minimised: confident predictions)."""
    logp = jax.nn.log_softmax(logits_BxC)
    return -jnp.mean(jnp.sum(jnp.exp(logp) * logp, axis=-1))


def diversity(logits_BxC: jax.Array) -> jax.Array:
    """sum_c pbar_c log pbar_c of the batch-mean prediction pbar (minimised: the batch
    spreads over the classes; -log C when it is uniform, 0 when one class takes all)."""
    pbar = jnp.mean(jax.nn.softmax(logits_BxC), axis=0)
    return jnp.sum(pbar * jnp.log(pbar + 1e-8))


def am_softmax(
    cosine_BxC: jax.Array, labels_B: jax.Array, scale: float = 30.0, margin: float = 0.2
) -> jax.Array:
    """Additive-margin softmax (Wang et al. 2018): mean CE of
    scale * (cosine - margin on the true class only). The margin is a training
    loss only; inference logits are scale * cosine."""
    onehot = jax.nn.one_hot(labels_B, cosine_BxC.shape[-1])
    logits = scale * (cosine_BxC - margin * onehot)
    return jnp.mean(optax.softmax_cross_entropy(logits, onehot))
