"""TIM-Net (Ye et al., ICASSP 2023): temporal-aware bi-directional multi-scale network.

Input: MFCC [B, T, 39] (`--config.data.features=mfcc`). The sequence and its
time reversal each pass through a stack of temporal-aware blocks with dilation
1, 2, 4, ... (each block: two dilated causal convolutions, kernel 2, with
BatchNorm, ReLU and dropout, gating its input by a sigmoid); after each block
the two directions are summed and average-pooled over valid time, and a
learned weighting fuses the per-block vectors into the utterance feature.

Padding frames sit at the end of a sequence: the forward direction never sees
them before a valid frame; the reversed direction sees them first, as zeros.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


def _causal_conv(x: jax.Array, features: int, dilation: int, name: str, dtype) -> jax.Array:
    pad = dilation  # kernel 2: one step back, `dilation` frames away
    x = jnp.pad(x, ((0, 0), (pad, 0), (0, 0)))
    return nn.Conv(
        features, (2,), kernel_dilation=(dilation,), padding="VALID", name=name, dtype=dtype
    )(x)


class TemporalAwareBlock(nn.Module):
    features: int
    dilation: int
    dropout: float
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        h = x
        for i in range(2):
            h = _causal_conv(h, self.features, self.dilation, f"conv{i}", self.dtype)
            h = nn.BatchNorm(
                use_running_average=not train, momentum=0.9, name=f"bn{i}", dtype=self.dtype
            )(h)
            h = nn.relu(h)
            h = nn.Dropout(self.dropout, broadcast_dims=(1,), deterministic=not train)(h)
        if x.shape[-1] != self.features:
            x = nn.Conv(self.features, (1,), name="match", dtype=self.dtype)(x)
        return x * nn.sigmoid(h)


class TIMNet(nn.Module):
    features: int = 64
    num_blocks: int = 8
    dropout: float = 0.1
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x_BxTxF: jax.Array, mask_BxT: jax.Array, *, train: bool) -> jax.Array:
        x = x_BxTxF.astype(self.dtype)
        fwd = nn.Conv(self.features, (1,), name="in_fwd", dtype=self.dtype)(x)
        bwd = nn.Conv(self.features, (1,), name="in_bwd", dtype=self.dtype)(x[:, ::-1])
        w = mask_BxT[..., None].astype(jnp.float32)
        pooled = []
        for j in range(self.num_blocks):
            fwd = TemporalAwareBlock(self.features, 2**j, self.dropout, name=f"fwd{j}")(
                fwd, train=train
            )
            bwd = TemporalAwareBlock(self.features, 2**j, self.dropout, name=f"bwd{j}")(
                bwd, train=train
            )
            both = fwd + bwd[:, ::-1]  # back to forward time order
            both = both.astype(jnp.float32)
            pooled.append(jnp.sum(both * w, 1) / jnp.maximum(jnp.sum(w, 1), 1.0))
        stack = jnp.stack(pooled, axis=1)  # [B, blocks, features]
        weights = self.param(
            "fusion", nn.initializers.constant(1.0 / self.num_blocks), (self.num_blocks,)
        )
        return jnp.einsum("bkf,k->bf", stack, weights)
