"""Flax models: backbones by name, heads, and the baseline SER model."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxser.models.cnn import CNN
from jaxser.models.didan import RegressionModel
from jaxser.models.emodna import EmoDNAModel
from jaxser.models.frames import FrameBackbone
from jaxser.models.msac import MSACModel
from jaxser.models.ser import SERModel
from jaxser.models.timnet import TIMNet

# name -> builder from the config's `model` section and the compute dtype
BACKBONES = {
    "cnn": lambda m, dtype: CNN(
        tuple(m.channels), m.stem_channels, m.convs_per_block, m.dropout, dtype, m.residual
    ),
    "timnet": lambda m, dtype: TIMNet(m.timnet_features, m.timnet_blocks, m.dropout, dtype),
    "frames": lambda m, dtype: FrameBackbone(m.frames_features, m.frames_pooling, m.dropout, dtype),
}
DTYPES = ("auto", "float32", "bfloat16")


def compute_dtype(name: str) -> jnp.dtype:
    """ "auto": bfloat16 on GPU and TPU, float32 on CPU (where bfloat16 is slow)."""
    if name not in DTYPES:
        raise KeyError(f"unknown compute dtype {name!r}; known: {list(DTYPES)}")
    if name == "auto":
        return jnp.float32 if jax.default_backend() == "cpu" else jnp.bfloat16
    return jnp.dtype(name)


def backbone(config, **kw) -> nn.Module:
    """The backbone named by `config.model.backbone`, built from `config.model`.

    Mixed precision: the backbone computes in `model.compute_dtype`; parameters,
    the heads, the losses and the optimizer stay in float32.
    """
    name = config.model.backbone
    if name not in BACKBONES:
        raise KeyError(f"unknown backbone {name!r}; known: {sorted(BACKBONES)}")
    module = BACKBONES[name](config.model, compute_dtype(config.model.compute_dtype))
    return module.clone(**kw) if kw else module


__all__ = [
    "BACKBONES",
    "CNN",
    "DTYPES",
    "compute_dtype",
    "EmoDNAModel",
    "FrameBackbone",
    "MSACModel",
    "RegressionModel",
    "SERModel",
    "TIMNet",
    "backbone",
]
