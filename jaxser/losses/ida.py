"""Implicit distribution alignment (IDA; DIDAN, Zhao et al. ICASSP 2023): align a
layer's source and target features by reconstructing target rows from source rows.

Per batch, the coefficients Z [M, N] reconstruct the target rows H_t [M, D] from
the source rows H_s [N, D]:

    ridge:  Z = argmin ||H_t - Z H_s||^2 + mu ||Z||^2 = H_t H_s^T (H_s H_s^T + mu I)^-1
    sparse: Z = argmin ||H_t - Z H_s||^2 + mu ||Z||_1, by ISTA (a fixed number of steps)

The loss is that objective at Z, relative to ||H_t||^2 (or per target row),
with Z under `stop_gradient`. At the minimiser the objective's derivative in Z
is zero, so by the envelope theorem the gradient through `stop_gradient(Z)` is
the exact gradient of the minimum (the ridge penalty belongs to the loss for
this to hold; for ISTA it holds once the iterations have converged).

Conditional forms take a membership mask per side ([N, G] and [M, G]: class or
coarse group, with the target's unconfident rows all zero): rows of group g
reconstruct target rows of group g, and groups absent from either side are
left out of the mean.
"""

import jax
import jax.numpy as jnp


def _at_least_f32(x: jax.Array) -> jax.Array:
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def ridge_coefficients(hs_NxD: jax.Array, ht_MxD: jax.Array, mu: float) -> jax.Array:
    """Z [M, N] = H_t H_s^T (H_s H_s^T + mu I)^-1 (by a symmetric solve)."""
    gram = hs_NxD @ hs_NxD.T + mu * jnp.eye(hs_NxD.shape[0], dtype=hs_NxD.dtype)
    return jnp.linalg.solve(gram, hs_NxD @ ht_MxD.T).T


def sparse_coefficients(
    hs_NxD: jax.Array, ht_MxD: jax.Array, mu: float, steps: int = 50
) -> jax.Array:
    """Z [M, N] minimising ||H_t - Z H_s||^2 + mu ||Z||_1 by `steps` ISTA iterations
    from 0, step 1 / L with L = 2 ||H_s||_F^2 (>= the gradient's Lipschitz constant)."""
    lipschitz = 2.0 * jnp.sum(hs_NxD**2) + 1e-12
    gram, cross = hs_NxD @ hs_NxD.T, ht_MxD @ hs_NxD.T

    def ista(_, z):
        z = z - 2.0 * (z @ gram - cross) / lipschitz
        return jnp.sign(z) * jnp.maximum(jnp.abs(z) - mu / lipschitz, 0.0)

    z0 = jnp.zeros((ht_MxD.shape[0], hs_NxD.shape[0]), hs_NxD.dtype)
    return jax.lax.fori_loop(0, steps, ista, z0)


def objective(
    hs_NxD: jax.Array, ht_MxD: jax.Array, z_MxN: jax.Array, mu: float, sparse: bool = False
) -> jax.Array:
    """||H_t - Z H_s||^2 + mu ||Z||^2 (ridge) or mu ||Z||_1 (sparse)."""
    residual = jnp.sum((ht_MxD - z_MxN @ hs_NxD) ** 2)
    penalty = jnp.sum(jnp.abs(z_MxN)) if sparse else jnp.sum(z_MxN**2)
    return residual + mu * penalty


def coefficients(hs_NxD, ht_MxD, mu: float, sparse: bool = False, ista_steps: int = 50):
    if sparse:
        return sparse_coefficients(hs_NxD, ht_MxD, mu, ista_steps)
    return ridge_coefficients(hs_NxD, ht_MxD, mu)


def ida(
    hs_NxD: jax.Array,
    ht_MxD: jax.Array,
    mu: float = 0.1,
    *,
    relative: bool = True,
    sparse: bool = False,
    ista_steps: int = 50,
    eps: float = 1e-6,
) -> jax.Array:
    """Marginal IDA: all source rows reconstruct all target rows.

    relative: objective / (||H_t||^2 + eps); else objective / M (per target row).
    """
    hs, ht = _at_least_f32(hs_NxD), _at_least_f32(ht_MxD)
    return _ida(hs, ht, ht.shape[0], mu, relative, sparse, ista_steps, eps)


def _ida(hs, ht, num_rows, mu, relative, sparse, ista_steps, eps) -> jax.Array:
    """The IDA value of float32-or-wider rows; `num_rows`: the target rows that count
    (the denominator of the absolute form)."""
    z = jax.lax.stop_gradient(coefficients(hs, ht, mu, sparse, ista_steps))
    value = objective(hs, ht, z, mu, sparse)
    if relative:
        return value / (jnp.sum(ht**2) + eps)
    return value / jnp.maximum(num_rows, 1.0)


def conditional_ida(
    hs_NxD: jax.Array,
    ht_MxD: jax.Array,
    source_NxG: jax.Array,
    target_MxG: jax.Array,
    mu: float = 0.1,
    *,
    relative: bool = True,
    sparse: bool = False,
    ista_steps: int = 50,
    eps: float = 1e-6,
) -> jax.Array:
    """Group-conditional IDA: the mean over groups present on both sides of the
    marginal IDA between that group's source rows and its target rows.

    Static shapes: a group's rows are selected by zeroing the others. A zero
    source row gets a zero coefficient column and a zero target row a zero
    coefficient row and residual, so this equals IDA on the selected rows only.
    """
    hs, ht = _at_least_f32(hs_NxD), _at_least_f32(ht_MxD)
    ms, mt = source_NxG.astype(jnp.float32), target_MxG.astype(jnp.float32)

    def one_group(ms_N, mt_M):
        hs_g, ht_g = hs * ms_N[:, None], ht * mt_M[:, None]
        return _ida(hs_g, ht_g, jnp.sum(mt_M), mu, relative, sparse, ista_steps, eps)

    values = jax.vmap(one_group, in_axes=(1, 1))(ms, mt)
    present = (ms.sum(0) > 0) & (mt.sum(0) > 0)
    return jnp.sum(jnp.where(present, values, 0.0)) / jnp.maximum(present.sum(), 1)
