"""Heads on backbone features: classifier, projection MLP, discriminator."""

import flax.linen as nn
import jax


class MLP(nn.Module):
    """Dense-ReLU(-Dropout) hidden layers, then a linear output layer."""

    hidden: tuple[int, ...]
    out: int
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        for h in self.hidden:
            x = nn.relu(nn.Dense(h)(x))
            x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.out)(x)


def classifier(num_classes: int, name: str | None = None) -> nn.Module:
    return MLP((), num_classes, name=name)


def projection(dim: int, hidden: int = 256, name: str | None = None) -> nn.Module:
    return MLP((hidden,), dim, name=name)


def discriminator(hidden: int = 256, dropout: float = 0.3, name: str | None = None) -> nn.Module:
    """Corpus discriminator: two hidden layers, one logit."""
    return MLP((hidden, hidden), 1, dropout, name=name)
