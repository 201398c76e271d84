"""Emo-DNA's model: a shared backbone, emotion and corpus projection branches.

Outputs: "features" (z_e, the emotion branch), "z_e"/"z_c" (L2-normalised
branches), "logits" (emotion classifier on z_e), "domain_logits" (corpus
discriminator on z_e behind gradient reversal) and "corpus_logits" (corpus
classifier on z_c, no reversal: z_c must hold the corpus).
"""

import flax.linen as nn
import jax

from jaxser.losses.adversarial import grad_reverse
from jaxser.losses.contrastive import l2_normalize
from jaxser.models import heads


class EmoDNAModel(nn.Module):
    backbone: nn.Module
    num_classes: int
    proj_dim: int = 128
    proj_hidden: int = 256
    discriminator_hidden: int = 256

    @nn.compact
    def __call__(
        self, x_BxTxF: jax.Array, mask_BxT: jax.Array, *, train: bool, grl_lambda=0.0
    ) -> dict[str, jax.Array]:
        f = self.backbone(x_BxTxF, mask_BxT, train=train)
        z_e = heads.projection(self.proj_dim, self.proj_hidden, name="emotion_branch")(
            f, train=train
        )
        z_c = heads.projection(self.proj_dim, self.proj_hidden, name="corpus_branch")(
            f, train=train
        )
        disc = heads.discriminator(self.discriminator_hidden, name="discriminator")
        return {
            "features": z_e,
            "z_e": l2_normalize(z_e),
            "z_c": l2_normalize(z_c),
            "logits": heads.classifier(self.num_classes, name="classifier")(z_e, train=train),
            "domain_logits": disc(grad_reverse(z_e, grl_lambda), train=train),
            "corpus_logits": heads.MLP((), 1, name="corpus_classifier")(z_c, train=train),
        }
