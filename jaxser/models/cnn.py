"""The spectrogram CNN backbone: log-mel [B, T, F] -> utterance features [B, D].

A strided 5x5 stem (16 channels) and a 2x2 max-pool, then blocks of two
3x3 conv-BN-ReLU layers (32, 64, 128, 256 channels), max-pooled 2x2 between
blocks, then masked global average pooling over time and frequency. With
`residual=True` each block is a residual block (He et al. 2016): its convs'
output, before the last ReLU, is added to a shortcut of the block's input (a
1x1 conv + BN where the channels change), MSAC-SERNet's backbone. About
1.2M parameters; the early layers are narrow because they run at full
resolution, where the FLOPs are. With a 3 s crop (300 frames) the last block
sees 9 x 2 cells of ~0.33 s.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


def _pool_mask(mask_BxT: jax.Array, factor: int) -> jax.Array:
    """A frame of the pooled map is valid if any input frame it covers is."""
    b, t = mask_BxT.shape
    t_out = t // factor
    return mask_BxT[:, : t_out * factor].reshape(b, t_out, factor).any(-1)


def max_pool_2x2(x_BxHxWxC: jax.Array) -> jax.Array:
    """2x2 max-pooling with stride 2 and VALID padding (an odd last row or
    column is dropped): the values of `nn.max_pool(x, (2, 2), (2, 2))`.

    Written as a reshape and a max because of its gradient. XLA:CPU expands
    the gradient of a `reduce_window` max (select-and-scatter) into full-size
    index arrays, a variadic reduce-window and a scatter: about a third of
    the CPU step's op time at the default shapes. A max over reshaped axes
    has an elementwise gradient instead; the step is 14-17% faster
    (docs/benchmarks.md).
    Where a window holds tied maxima the gradient is split among them, not
    given to the first; after a ReLU the only common tie is at 0, whose
    gradient the ReLU zeroes either way.
    """
    b, h, w, c = x_BxHxWxC.shape
    h2, w2 = h // 2, w // 2
    x = x_BxHxWxC[:, : 2 * h2, : 2 * w2]
    return x.reshape(b, h2, 2, w2, 2, c).max(axis=(2, 4))


class CNN(nn.Module):
    channels: Sequence[int] = (32, 64, 128, 256)
    stem_channels: int = 16
    convs_per_block: int = 2
    dropout: float = 0.1
    dtype: jnp.dtype = jnp.float32
    residual: bool = False
    # False: the frames before pooling, (features [B, T', C] averaged over
    # frequency, their mask [B, T']), for a model that pools them itself
    pool: bool = True

    @nn.compact
    def __call__(self, x_BxTxF: jax.Array, mask_BxT: jax.Array, *, train: bool):
        norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)  # noqa: E731
        x = x_BxTxF[..., None].astype(self.dtype)
        x = nn.Conv(self.stem_channels, (5, 5), strides=(2, 2), use_bias=False, dtype=self.dtype)(x)
        x = nn.relu(norm()(x))
        x = max_pool_2x2(x)
        # Time size after stem conv (SAME padding, stride 2) then pool 2: ceil(T/2) // 2.
        mask = _pool_mask(jnp.pad(mask_BxT, ((0, 0), (0, mask_BxT.shape[1] % 2))), 2)
        mask = _pool_mask(mask, 2)
        for i, c in enumerate(self.channels):
            shortcut = x
            for j in range(self.convs_per_block):
                x = norm()(nn.Conv(c, (3, 3), use_bias=False, dtype=self.dtype)(x))
                if not (self.residual and j == self.convs_per_block - 1):
                    x = nn.relu(x)
            if self.residual:
                if shortcut.shape[-1] != c:
                    shortcut = nn.Conv(c, (1, 1), use_bias=False, dtype=self.dtype)(shortcut)
                    shortcut = norm()(shortcut)
                x = nn.relu(x + shortcut)
            if i < len(self.channels) - 1:
                x = max_pool_2x2(x)
                mask = _pool_mask(mask, 2)
        if not self.pool:
            return x.mean(2).astype(jnp.float32), mask[:, : x.shape[1]]
        # Masked mean over time (padding frames excluded), plain mean over frequency.
        w = mask[:, : x.shape[1], None, None].astype(x.dtype)
        x = jnp.sum(x * w, axis=(1, 2)) / jnp.maximum(jnp.sum(w, axis=(1, 2)) * x.shape[2], 1.0)
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return x.astype(jnp.float32)
