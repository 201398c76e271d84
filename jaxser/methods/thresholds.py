"""Adaptive pseudo-label thresholds, kept as method state and updated in the step.

- `freematch` (Wang et al. 2023, self-adaptive): a global EMA of the mean max
  confidence, `tau <- m tau + (1 - m) mean_b max_c p_bc`, times a class-wise EMA
  of the mean prediction normalised by its max,
  `pbar <- m pbar + (1 - m) mean_b p_b`, threshold_c = tau * pbar_c / max(pbar);
  both start at 1/C.
- `flexmatch` (Zhang et al. 2021): per class, the number sigma_c of target
  samples whose latest prediction was c with confidence above `fixed`;
  beta_c = sigma_c / max(max_c sigma, N - sum sigma) (the warm-up form),
  threshold_c = fixed * beta_c / (2 - beta_c).
- `fixed`: threshold_c = `fixed` for every class.
"""

import jax
import jax.numpy as jnp

KINDS = ("freematch", "flexmatch", "fixed")


def init(kind: str, num_classes: int, num_target: int) -> dict:
    if kind not in KINDS:
        raise ValueError(f"unknown threshold {kind!r}; known: {list(KINDS)}")
    c = num_classes
    return {
        "tau": jnp.full((), 1.0 / c, jnp.float32),
        "p_model": jnp.full((c,), 1.0 / c, jnp.float32),
        # FlexMatch: latest confident prediction per target utterance (-1: none yet)
        "selected": jnp.full((num_target if kind == "flexmatch" else 1,), -1, jnp.int32),
    }


def update(
    state: dict, probs_BxC: jax.Array, index_B: jax.Array, kind: str, momentum: float, fixed: float
) -> dict:
    """One step's update from the target batch's predictions (no gradient)."""
    probs = jax.lax.stop_gradient(probs_BxC)
    conf, pred = probs.max(-1), probs.argmax(-1)
    new = dict(state)
    new["tau"] = momentum * state["tau"] + (1 - momentum) * conf.mean()
    new["p_model"] = momentum * state["p_model"] + (1 - momentum) * probs.mean(0)
    if kind == "flexmatch":
        current = state["selected"][index_B]
        new["selected"] = state["selected"].at[index_B].set(jnp.where(conf > fixed, pred, current))
    return new


def thresholds(state: dict, kind: str, num_classes: int, fixed: float) -> jax.Array:
    """Per-class thresholds [C] from the state."""
    if kind == "freematch":
        return state["tau"] * state["p_model"] / state["p_model"].max()
    if kind == "flexmatch":
        sel = state["selected"]
        sigma = jnp.sum(sel[:, None] == jnp.arange(num_classes)[None, :], axis=0)
        unused = sel.shape[0] - sigma.sum()
        beta = sigma / jnp.maximum(jnp.maximum(sigma.max(), unused), 1)
        return fixed * beta / (2.0 - beta)
    return jnp.full((num_classes,), fixed, jnp.float32)


def accept(probs_BxC: jax.Array, thresholds_C: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(pseudo-label, accepted) per row: argmax, and max prob >= that class's threshold."""
    pred = probs_BxC.argmax(-1)
    return pred, probs_BxC.max(-1) >= thresholds_C[pred]
