"""MSAC-SERNet's model (Pan et al. 2023/2024): a CNN over log-mel frames,
attentive statistics pooling, a 256-d emotion embedding and an additive-margin
softmax head, with speech-attribute heads on the embedding.

Outputs: "features" (the embedding), "cosine" (cosine of the L2-normalised
embedding to each L2-normalised class weight, the parameter `CLASS_WEIGHTS`),
"logits" (scale * cosine: the margin is a training loss,
jaxser/losses/classification.py `am_softmax`, never part of the inference
logits), "speaker_logits", "gender_logits" (no reversal: an auxiliary task)
and "domain_logits" (a corpus discriminator behind gradient reversal of
strength `grl_lambda`).

Speaker control, `control`:
- "reversal": the speaker head reads the emotion embedding behind gradient
  reversal of strength `speaker_lambda`;
- "orthogonal": a second, attribute embedding of the pooled frames
  ("attribute_features") feeds the speaker head without reversal; the
  method's orthogonality term keeps it orthogonal to the emotion embedding;
- "confusion" (Alvi et al. 2018; Tzeng et al. 2015): the speaker head reads
  the embedding with its gradient stopped ("speaker_logits": the head is
  trained normally and never moves the embedding), and the same head, its
  parameters held constant, reads the embedding itself
  ("speaker_confusion_logits"): the method's confusion term pushes that
  prediction towards the batch's speaker prior, which moves the embedding only.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxser.losses.adversarial import grad_reverse
from jaxser.losses.contrastive import l2_normalize
from jaxser.models import heads


class AttentiveStatsPool(nn.Module):
    """Attentive statistics pooling (Okabe et al. 2018): attention weights
    softmax_t(v . tanh(W h_t + b)) over the valid frames only; output the
    weighted mean and standard deviation of the frames, [B, 2C]. Padding frames
    get weight 0, so they change nothing."""

    hidden: int = 128

    @nn.compact
    def __call__(self, h_BxTxC: jax.Array, mask_BxT: jax.Array) -> jax.Array:
        # no bias on the score: softmax over time ignores a constant (its gradient is
        # zero up to rounding, which Adam would amplify into noise-driven updates)
        hidden = jnp.tanh(nn.Dense(self.hidden, name="attention")(h_BxTxC))
        e = nn.Dense(1, use_bias=False, name="score")(hidden)
        e = jnp.where(mask_BxT[..., None], e, -jnp.inf)
        alpha = jax.nn.softmax(e, axis=1)
        alpha = jnp.where(mask_BxT[..., None], alpha, 0.0)  # an all-padding row: zeros
        mean = jnp.sum(alpha * h_BxTxC, axis=1)
        var = jnp.sum(alpha * h_BxTxC**2, axis=1) - mean**2
        return jnp.concatenate([mean, jnp.sqrt(jnp.maximum(var, 1e-6))], axis=-1)


CLASS_WEIGHTS = "class_weights"  # [embedding_dim, num_classes], the AM-softmax head
CONTROLS = ("reversal", "orthogonal", "confusion")


class MSACModel(nn.Module):
    backbone: nn.Module  # frame mode: (x, mask) -> ([B, T', C], [B, T'])
    num_classes: int
    embedding_dim: int = 256
    scale: float = 30.0
    num_speakers: int = 256
    num_genders: int = 3
    attention_hidden: int = 128
    discriminator_hidden: int = 256
    control: str = "reversal"

    @nn.compact
    def __call__(
        self,
        x_BxTxF: jax.Array,
        mask_BxT: jax.Array,
        *,
        train: bool,
        grl_lambda=0.0,
        speaker_lambda=0.0,
    ) -> dict[str, jax.Array]:
        frames, mask = self.backbone(x_BxTxF, mask_BxT, train=train)
        pooled = AttentiveStatsPool(self.attention_hidden, name="pooling")(frames, mask)
        z = nn.Dense(self.embedding_dim, name="embedding")(pooled)
        w = self.param(
            CLASS_WEIGHTS, nn.initializers.lecun_normal(), (self.embedding_dim, self.num_classes)
        )
        cosine = l2_normalize(z) @ l2_normalize(w.T).T
        speaker = nn.Dense(self.num_speakers, name="speaker_head")
        disc = heads.discriminator(self.discriminator_hidden, name="discriminator")
        out = {
            "features": z,
            "cosine": cosine,
            "logits": self.scale * cosine,
            "gender_logits": nn.Dense(self.num_genders, name="gender_head")(z),
            "domain_logits": disc(grad_reverse(z, grl_lambda), train=train),
        }
        if self.control == "reversal":
            out["speaker_logits"] = speaker(grad_reverse(z, speaker_lambda))
        elif self.control == "orthogonal":
            a = nn.Dense(self.embedding_dim, name="attribute_embedding")(pooled)
            out["attribute_features"] = a
            out["speaker_logits"] = speaker(a)
        elif self.control == "confusion":
            out["speaker_logits"] = speaker(jax.lax.stop_gradient(z))
            head = jax.lax.stop_gradient(speaker.variables["params"])
            out["speaker_confusion_logits"] = z @ head["kernel"] + head["bias"]
        else:
            raise ValueError(f"unknown control {self.control!r}; known: {list(CONTROLS)}")
        return out
