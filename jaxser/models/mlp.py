"""The MLP backbone: one vector per utterance (openSMILE functionals, (D,)
arrays) -> utterance features [B, D].

Such inputs reach the model as one-frame sequences [B, 1, F] (the pipeline's
crop is one frame). Each frame goes through `hidden_layers` blocks of
Dense -> LayerNorm -> ReLU -> dropout; the blocks' output is averaged over the
valid frames (for one frame: that frame). On frame sequences it is a per-frame
MLP with mean pooling. `pool=False` returns the frames and their mask instead
(for MSAC-SERNet's own pooling).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxser.models.frames import masked_softmax_pool, mix_layers


class MLPBackbone(nn.Module):
    features: int = 256
    hidden_layers: int = 2
    dropout: float = 0.1
    dtype: jnp.dtype = jnp.float32
    pool: bool = True
    layers: int = 1  # hidden layers side by side in each frame (mixed as the frame backbone)

    @nn.compact
    def __call__(self, x: jax.Array, mask_BxT: jax.Array, *, train: bool):
        h = mix_layers(self, x, self.layers).astype(self.dtype)
        for i in range(self.hidden_layers):
            h = nn.Dense(self.features, name=f"dense{i}", dtype=self.dtype)(h)
            h = nn.LayerNorm(name=f"norm{i}", dtype=self.dtype)(h)
            h = nn.Dropout(self.dropout, deterministic=not train)(nn.relu(h))
        h = h.astype(jnp.float32)
        if not self.pool:
            return h, mask_BxT
        return masked_softmax_pool(h, jnp.zeros(mask_BxT.shape, jnp.float32), mask_BxT)
