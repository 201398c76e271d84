"""Moment- and kernel-based discrepancies between source and target features."""

import jax
import jax.numpy as jnp

# the smallest base bandwidth of `multi_kernel` (squared feature distance)
MIN_BANDWIDTH = 1e-12


def squared_distances(a_NxD: jax.Array, b_MxD: jax.Array) -> jax.Array:
    """Pairwise squared Euclidean distances [N, M]."""
    d = jnp.sum(a_NxD**2, -1)[:, None] + jnp.sum(b_MxD**2, -1)[None, :] - 2.0 * a_NxD @ b_MxD.T
    return jnp.maximum(d, 0.0)


def multi_kernel(x_NxD: jax.Array, num_kernels: int = 5, kernel_mul: float = 2.0) -> jax.Array:
    """Sum of Gaussian kernels on all pairs of rows of x (DAN's multi-kernel).

    Bandwidths: base * kernel_mul**(k - num_kernels // 2), k = 0..num_kernels-1,
    base = mean pairwise squared distance (no gradient through it), floored at
    MIN_BANDWIDTH: rows that all coincide (features collapsed onto one point)
    give 0 / 0 in the references (DAN, DSAN); here every kernel is 1 there,
    the MMD 0 and its gradient finite. Above the floor nothing changes.
    """
    d = squared_distances(x_NxD, x_NxD)
    n = x_NxD.shape[0]
    base = jax.lax.stop_gradient(jnp.maximum(jnp.sum(d) / (n * n - n), MIN_BANDWIDTH))
    scales = base * kernel_mul ** (jnp.arange(num_kernels) - num_kernels // 2)
    return jnp.sum(jnp.exp(-d[None] / scales[:, None, None]), axis=0)


def mk_mmd(
    source_BxD: jax.Array, target_BxD: jax.Array, num_kernels: int = 5, kernel_mul: float = 2.0
) -> jax.Array:
    """Biased multi-kernel MMD^2 between two equal-sized batches (Long et al. 2015)."""
    b = source_BxD.shape[0]
    k = multi_kernel(jnp.concatenate([source_BxD, target_BxD]), num_kernels, kernel_mul)
    return jnp.mean(k[:b, :b]) + jnp.mean(k[b:, b:]) - 2.0 * jnp.mean(k[:b, b:])


def coral(source_BxD: jax.Array, target_BxD: jax.Array) -> jax.Array:
    """Deep CORAL: ||C_s - C_t||_F^2 / (4 d^2), C = unbiased feature covariance."""
    d = source_BxD.shape[1]

    def cov(x):
        xc = x - jnp.mean(x, 0, keepdims=True)
        return xc.T @ xc / (x.shape[0] - 1)

    return jnp.sum((cov(source_BxD) - cov(target_BxD)) ** 2) / (4.0 * d * d)


def lmmd(
    source_BxD: jax.Array,
    target_BxD: jax.Array,
    source_onehot_BxC: jax.Array,
    target_probs_BxC: jax.Array,
    num_kernels: int = 5,
    kernel_mul: float = 2.0,
) -> jax.Array:
    """Local (class-conditional) MMD of DSAN (Zhu et al. 2020).

    Per class c, source rows weighted by their one-hot label and target rows by
    their predicted probability, each normalised to sum 1 over the batch; the
    class-wise MMD^2 is averaged over the classes present in both the source
    labels and the target argmax predictions (others are masked out).
    """
    b = source_BxD.shape[0]
    k = multi_kernel(jnp.concatenate([source_BxD, target_BxD]), num_kernels, kernel_mul)
    ws = source_onehot_BxC / jnp.maximum(jnp.sum(source_onehot_BxC, 0, keepdims=True), 1e-8)
    wt = target_probs_BxC / jnp.maximum(jnp.sum(target_probs_BxC, 0, keepdims=True), 1e-8)
    num_classes = source_onehot_BxC.shape[1]
    in_target = jax.nn.one_hot(jnp.argmax(target_probs_BxC, -1), num_classes).sum(0) > 0
    present = (jnp.sum(source_onehot_BxC, 0) > 0) & in_target
    ws, wt = ws * present, wt * present
    per_class = (
        jnp.einsum("ic,ij,jc->c", ws, k[:b, :b], ws)
        + jnp.einsum("ic,ij,jc->c", wt, k[b:, b:], wt)
        - 2.0 * jnp.einsum("ic,ij,jc->c", ws, k[:b, b:], wt)
    )
    return jnp.sum(per_class) / jnp.maximum(jnp.sum(present), 1)
