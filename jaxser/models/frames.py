"""The frame backbone: frame features of any width -> utterance features [B, D].

For features whose frames are vectors rather than a spectrogram image: MFCC,
log-mel taken as vectors, and (with the feature kinds to come) openSMILE
low-level descriptors or self-supervised (SSL) embeddings. The downstream
model of the SUPERB and EmoBox benchmarks:

1. Input [B, T, F], or [B, L, T, F] for every hidden layer of an SSL model:
   the layers are combined by a learnable softmax-weighted sum
   (`layer_weighted_sum`; weights start equal).
2. A light projection of each frame: Dense(features) -> LayerNorm -> ReLU ->
   dropout.
3. Pooling over the valid frames: "attentive" (a learned score per frame,
   softmax over the valid frames; scores start equal, so it starts as the
   mean) or "mean".

`pool=False` returns the projected frames and their mask instead (for a model
that pools them itself, as MSAC-SERNet's).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

POOLINGS = ("attentive", "mean")


def layer_weighted_sum(x_BxLxTxF: jax.Array, logits_L: jax.Array) -> jax.Array:
    """sum_l softmax(logits)_l * x[:, l]: [B, T, F]."""
    w = jax.nn.softmax(logits_L.astype(jnp.float32))
    return jnp.einsum("bltf,l->btf", x_BxLxTxF.astype(jnp.float32), w)


def masked_softmax_pool(x_BxTxD: jax.Array, scores_BxT: jax.Array, mask_BxT: jax.Array):
    """sum_t softmax_t(scores over the valid frames) x_t: [B, D]. An utterance
    with no valid frame gets zeros."""
    scores = jnp.where(mask_BxT, scores_BxT.astype(jnp.float32), -jnp.inf)
    w = jnp.where(mask_BxT, jax.nn.softmax(scores, axis=-1), 0.0)
    w = jnp.nan_to_num(w)  # all frames masked: softmax of -inf everywhere
    return jnp.einsum("btd,bt->bd", x_BxTxD.astype(jnp.float32), w)


class FrameBackbone(nn.Module):
    features: int = 256
    pooling: str = "attentive"
    dropout: float = 0.1
    dtype: jnp.dtype = jnp.float32
    pool: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, mask_BxT: jax.Array, *, train: bool):
        if self.pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {self.pooling!r}; known: {list(POOLINGS)}")
        if x.ndim == 4:  # [B, L, T, F]: every hidden layer
            layers = self.param("layer_logits", nn.initializers.zeros, (x.shape[1],))
            x = layer_weighted_sum(x, layers)
        h = nn.Dense(self.features, name="project", dtype=self.dtype)(x.astype(self.dtype))
        h = nn.LayerNorm(name="norm", dtype=self.dtype)(h)
        h = nn.relu(h)
        h = nn.Dropout(self.dropout, deterministic=not train)(h).astype(jnp.float32)
        if not self.pool:
            return h, mask_BxT
        if self.pooling == "attentive":
            scores = nn.Dense(1, name="attention", kernel_init=nn.initializers.zeros)(h)[..., 0]
        else:
            scores = jnp.zeros(mask_BxT.shape, jnp.float32)
        return masked_softmax_pool(h, scores, mask_BxT)
