"""The frame backbone: frame features of any width -> utterance features [B, D].

For features whose frames are vectors rather than a spectrogram image:
openSMILE low-level descriptors, self-supervised (SSL) embeddings, a user's
arrays, or MFCC / log-mel taken as vectors. The downstream model of the SUPERB
and EmoBox benchmarks:

1. Input [B, T, F]; with `layers` L > 1 (every hidden state of an SSL model,
   stored side by side: F = L * D) each frame is split into its L layers,
   combined by a learnable softmax-weighted sum (`layer_weighted_sum`; the
   weights start equal).
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


def layer_weighted_sum(x_BxTxLxD: jax.Array, logits_L: jax.Array) -> jax.Array:
    """sum_l softmax(logits)_l * x[:, :, l]: [B, T, D]."""
    w = jax.nn.softmax(logits_L.astype(jnp.float32))
    return jnp.einsum("btld,l->btd", x_BxTxLxD.astype(jnp.float32), w)


def masked_softmax_pool(x_BxTxD: jax.Array, scores_BxT: jax.Array, mask_BxT: jax.Array):
    """sum_t softmax_t(scores over the valid frames) x_t: [B, D]. An utterance
    with no valid frame gets zeros."""
    scores = jnp.where(mask_BxT, scores_BxT.astype(jnp.float32), -jnp.inf)
    w = jnp.where(mask_BxT, jax.nn.softmax(scores, axis=-1), 0.0)
    w = jnp.nan_to_num(w)  # all frames masked: softmax of -inf everywhere
    return jnp.einsum("btd,bt->bd", x_BxTxD.astype(jnp.float32), w)


def unstack_layers(x_BxTxF: jax.Array, layers: int) -> jax.Array:
    """[B, T, L * D] frames holding L layers side by side -> [B, T, L, D]."""
    B, T, F = x_BxTxF.shape
    if F % layers:
        raise ValueError(f"frames of width {F} do not split into {layers} layers")
    return x_BxTxF.reshape(B, T, layers, F // layers)


def mix_layers(module: nn.Module, x_BxTxF: jax.Array, layers: int) -> jax.Array:
    """`module`'s learnable mix of the L layers of each frame ("layer_logits",
    starting equal): [B, T, D]; the frames as they are when L = 1."""
    if layers == 1:
        return x_BxTxF
    logits = module.param("layer_logits", nn.initializers.zeros, (layers,))
    return layer_weighted_sum(unstack_layers(x_BxTxF, layers), logits)


class FrameBackbone(nn.Module):
    features: int = 256
    pooling: str = "attentive"
    dropout: float = 0.1
    dtype: jnp.dtype = jnp.float32
    pool: bool = True
    layers: int = 1  # hidden layers side by side in each frame

    @nn.compact
    def __call__(self, x: jax.Array, mask_BxT: jax.Array, *, train: bool):
        if self.pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {self.pooling!r}; known: {list(POOLINGS)}")
        x = mix_layers(self, x, self.layers)
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
