"""Contrastive losses on L2-normalised features."""

import jax
import jax.numpy as jnp


def l2_normalize(x: jax.Array, eps: float = 1e-8) -> jax.Array:
    return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), eps)


def supervised_contrastive(
    z_NxD: jax.Array,
    labels_N: jax.Array,
    valid_N: jax.Array,
    temperature: float = 0.1,
    extra_negatives_MxD: jax.Array | None = None,
) -> jax.Array:
    """SupCon (Khosla et al. 2020) with optional extra negatives.

    Anchors: rows with `valid`; positives of anchor i: the other valid rows with its
    label; the denominator runs over every other row of z and every row of
    `extra_negatives` (which are never positives). Rows of z must be normalised.
    Returns the mean over anchors that have at least one positive (0 if none).
    """
    n = z_NxD.shape[0]
    logits = z_NxD @ z_NxD.T / temperature
    self_mask = jnp.eye(n, dtype=bool)
    logits = jnp.where(self_mask, -jnp.inf, logits)
    if extra_negatives_MxD is not None:
        logits = jnp.concatenate([logits, z_NxD @ extra_negatives_MxD.T / temperature], axis=1)
    log_prob = logits - jax.nn.logsumexp(logits, axis=1, keepdims=True)
    pos = (labels_N[:, None] == labels_N[None, :]) & valid_N[:, None] & valid_N[None, :]
    pos = pos & ~self_mask
    if extra_negatives_MxD is not None:
        pos = jnp.concatenate([pos, jnp.zeros((n, extra_negatives_MxD.shape[0]), bool)], 1)
    num_pos = pos.sum(1)
    per_anchor = -jnp.sum(jnp.where(pos, log_prob, 0.0), axis=1) / jnp.maximum(num_pos, 1)
    has_pos = num_pos > 0
    return jnp.sum(jnp.where(has_pos, per_anchor, 0.0)) / jnp.maximum(has_pos.sum(), 1)


def orthogonality(a_NxD: jax.Array, b_NxD: jax.Array) -> jax.Array:
    """||A^T B||_F^2 / N^2, the difference loss of Domain Separation Networks
    (Bousmalis et al. 2016): 0 when every feature (column) of A is orthogonal,
    across the batch, to every feature of B."""
    n = a_NxD.shape[0]
    return jnp.sum((a_NxD.T @ b_NxD) ** 2) / (n * n)
