"""A model's inference function (no TensorFlow needed to build it)."""

from collections.abc import Callable, Sequence

import jax


def make_forward(model, outputs: Sequence[str] = ("logits", "features")) -> Callable:
    """(variables, x, mask) -> the tuple of the model's `outputs`, jit-compiled,
    inference mode."""
    outputs = tuple(outputs)

    def forward(variables, x, mask):
        out = model.apply(variables, x, mask, train=False)
        return tuple(out[k] for k in outputs)

    return jax.jit(forward)
