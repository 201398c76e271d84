"""A model's inference function (no TensorFlow needed to build it)."""

from collections.abc import Callable

import jax


def make_forward(model) -> Callable:
    """(variables, x, mask) -> (logits, features), jit-compiled, inference mode."""

    def forward(variables, x, mask):
        out = model.apply(variables, x, mask, train=False)
        return out["logits"], out["features"]

    return jax.jit(forward)
