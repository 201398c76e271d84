"""Gradient reversal and the domain-adversarial loss (Ganin & Lempitsky 2015)."""

import jax
import jax.numpy as jnp
import optax


@jax.custom_vjp
def grad_reverse(x: jax.Array, lam: jax.Array) -> jax.Array:
    """Identity forward; multiplies the incoming gradient by -lam backward."""
    return x


def _grad_reverse_fwd(x, lam):
    return x, lam


def _grad_reverse_bwd(lam, g):
    return -lam * g, jnp.zeros_like(lam)


grad_reverse.defvjp(_grad_reverse_fwd, _grad_reverse_bwd)


def grl_schedule(progress: jax.Array, gamma: float = 10.0) -> jax.Array:
    """lambda(p) = 2 / (1 + exp(-gamma p)) - 1: 0 at the start, -> 1 as training ends."""
    return 2.0 / (1.0 + jnp.exp(-gamma * progress)) - 1.0


def domain_adversarial(source_logits_B: jax.Array, target_logits_B: jax.Array) -> jax.Array:
    """Binary cross-entropy of a corpus discriminator: source = 1, target = 0.

    The discriminator minimises it; the features, behind gradient reversal,
    maximise it. Inputs are the discriminator's logits, shape [B] or [B, 1].
    """
    s = source_logits_B.reshape(-1)
    t = target_logits_B.reshape(-1)
    loss_s = optax.sigmoid_binary_cross_entropy(s, jnp.ones_like(s))
    loss_t = optax.sigmoid_binary_cross_entropy(t, jnp.zeros_like(t))
    return 0.5 * (jnp.mean(loss_s) + jnp.mean(loss_t))
