"""The baseline SER model: backbone -> bottleneck -> classifier (+ corpus discriminator).

Outputs a dict: "features" (bottleneck, [B, D]), "logits" ([B, C]) and, with a
discriminator, "domain_logits" ([B, 1]) computed behind gradient reversal with
strength `grl_lambda`.
"""

import flax.linen as nn
import jax

from jaxser.losses.adversarial import grad_reverse
from jaxser.models import heads


class SERModel(nn.Module):
    backbone: nn.Module
    num_classes: int
    bottleneck_dim: int = 256
    discriminator: bool = False
    discriminator_hidden: int = 256

    @nn.compact
    def __call__(
        self, x_BxTxF: jax.Array, mask_BxT: jax.Array, *, train: bool, grl_lambda=0.0
    ) -> dict[str, jax.Array]:
        f = self.backbone(x_BxTxF, mask_BxT, train=train)
        z = nn.relu(nn.Dense(self.bottleneck_dim, name="bottleneck")(f))
        out = {
            "features": z,
            "logits": heads.classifier(self.num_classes, name="classifier")(z, train=train),
        }
        if self.discriminator:
            disc = heads.discriminator(self.discriminator_hidden, name="discriminator")
            out["domain_logits"] = disc(grad_reverse(z, grl_lambda), train=train)
        return out
