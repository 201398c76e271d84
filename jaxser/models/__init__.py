"""Flax models: backbones by name, heads, and the baseline SER model."""

import flax.linen as nn

from jaxser.models.cnn import CNN
from jaxser.models.emodna import EmoDNAModel
from jaxser.models.ser import SERModel
from jaxser.models.timnet import TIMNet

# name -> builder from the config's `model` section
BACKBONES = {
    "cnn": lambda m: CNN(tuple(m.channels), m.stem_channels, m.convs_per_block, m.dropout),
    "timnet": lambda m: TIMNet(m.timnet_features, m.timnet_blocks, m.dropout),
}


def backbone(config) -> nn.Module:
    """The backbone named by `config.model.backbone`, built from `config.model`."""
    name = config.model.backbone
    if name not in BACKBONES:
        raise KeyError(f"unknown backbone {name!r}; known: {sorted(BACKBONES)}")
    return BACKBONES[name](config.model)


__all__ = ["BACKBONES", "CNN", "EmoDNAModel", "SERModel", "TIMNet", "backbone"]
