"""Flax models: backbones by name, heads, and the baseline SER model."""

import flax.linen as nn

from jaxser.models.cnn import CNN
from jaxser.models.ser import SERModel

# name -> builder from the config's `model` section
BACKBONES = {
    "cnn": lambda m: CNN(tuple(m.channels), m.stem_channels, m.convs_per_block, m.dropout),
}


def backbone(config) -> nn.Module:
    """The backbone named by `config.model.backbone`, built from `config.model`."""
    name = config.model.backbone
    if name not in BACKBONES:
        raise KeyError(f"unknown backbone {name!r}; known: {sorted(BACKBONES)}")
    return BACKBONES[name](config.model)


__all__ = ["BACKBONES", "CNN", "SERModel", "backbone"]
