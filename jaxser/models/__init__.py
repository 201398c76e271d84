"""Flax models: backbones by name, heads, and the baseline SER model."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxser.data.features import from_config as feature_config
from jaxser.models.cnn import CNN
from jaxser.models.didan import RegressionModel
from jaxser.models.emodna import EmoDNAModel
from jaxser.models.frames import FrameBackbone
from jaxser.models.mlp import MLPBackbone
from jaxser.models.msac import MSACModel
from jaxser.models.ser import SERModel
from jaxser.models.timnet import TIMNet

# name -> builder from the config's `model` section, the compute dtype and the
# number of hidden layers each input frame holds side by side
BACKBONES = {
    "cnn": lambda m, dtype, layers: CNN(
        tuple(m.channels), m.stem_channels, m.convs_per_block, m.dropout, dtype, m.residual
    ),
    "timnet": lambda m, dtype, layers: TIMNet(m.timnet_features, m.timnet_blocks, m.dropout, dtype),
    "frames": lambda m, dtype, layers: FrameBackbone(
        m.frames_features, m.frames_pooling, m.dropout, dtype, layers=layers
    ),
    "mlp": lambda m, dtype, layers: MLPBackbone(
        m.mlp_features, m.mlp_layers, m.dropout, dtype, layers=layers
    ),
}
# "auto": the backbone that fits the feature kind (`backbone_name`)
BACKBONE_CHOICES = ("auto", *BACKBONES)
# the backbones that read a 2-D spectrogram (log-mel, MFCC), not vectors
SPECTROGRAM_BACKBONES = ("cnn", "timnet")
DTYPES = ("auto", "float32", "bfloat16")


def compute_dtype(name: str) -> jnp.dtype:
    """ "auto": bfloat16 on GPU and TPU, float32 on CPU (where bfloat16 is slow)."""
    if name not in DTYPES:
        raise KeyError(f"unknown compute dtype {name!r}; known: {list(DTYPES)}")
    if name == "auto":
        return jnp.float32 if jax.default_backend() == "cpu" else jnp.bfloat16
    return jnp.dtype(name)


def backbone_name(config) -> str:
    """`config.model.backbone`, with "auto" resolved by the feature kind: the 2-D
    CNN for a spectrogram (log-mel, MFCC), the MLP for one vector per utterance
    (openSMILE functionals, (D,) arrays), the frame backbone for frame vectors
    (openSMILE LLDs, SSL embeddings, (T, D) arrays)."""
    name = config.model.backbone
    if name != "auto":
        return name
    features = feature_config(config)
    if features.spectrogram:
        return "cnn"
    return "mlp" if features.per_utterance else "frames"


def backbone(config, **kw) -> nn.Module:
    """The backbone `backbone_name` gives, built from `config.model`.

    Mixed precision: the backbone computes in `model.compute_dtype`; parameters,
    the heads, the losses and the optimizer stay in float32.
    """
    name = backbone_name(config)
    if name not in BACKBONES:
        raise KeyError(f"unknown backbone {name!r}; known: {sorted(BACKBONE_CHOICES)}")
    layers = feature_config(config).layers
    module = BACKBONES[name](config.model, compute_dtype(config.model.compute_dtype), layers)
    return module.clone(**kw) if kw else module


__all__ = [
    "BACKBONE_CHOICES",
    "BACKBONES",
    "backbone_name",
    "MLPBackbone",
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
