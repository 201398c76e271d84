"""The CNN backbone's building blocks."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxser.models import cnn


def test_max_pool_2x2_equals_flax_max_pool_in_value_and_gradient():
    rng = np.random.default_rng(0)
    for shape in [(2, 9, 7, 3), (3, 8, 4, 5), (1, 2, 2, 1)]:  # odd sizes drop the last row/col
        x = jnp.asarray(rng.normal(size=shape), jnp.float32)  # no ties: one argmax per window
        ref = lambda x: nn.max_pool(x, (2, 2), (2, 2))  # noqa: E731
        np.testing.assert_array_equal(cnn.max_pool_2x2(x), ref(x))
        g = jnp.asarray(rng.normal(size=ref(x).shape), jnp.float32)
        ours = jax.vjp(cnn.max_pool_2x2, x)[1](g)[0]
        theirs = jax.vjp(ref, x)[1](g)[0]
        np.testing.assert_array_equal(ours, theirs)
        assert int((ours != 0).sum()) == g.size  # one input per window gets the gradient


def test_max_pool_2x2_after_relu_gives_tied_zero_windows_no_gradient():
    x = jnp.array([[[[-1.0], [-2.0]], [[-3.0], [-0.5]]]])  # one window, all negative
    f = lambda x: cnn.max_pool_2x2(nn.relu(x)).sum()  # noqa: E731
    np.testing.assert_array_equal(jax.grad(f)(x), jnp.zeros_like(x))
