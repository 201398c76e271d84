"""The UDA baselines the papers compare with, on one model: backbone ->
bottleneck -> classifier (+ a corpus discriminator behind gradient reversal
when a term is "adversarial").

- `source_only`: CE on the labelled source (label smoothing); no adaptation.
- `dann` (Ganin & Lempitsky 2015): + `adv`, a corpus discriminator (two hidden
  layers) on the bottleneck features behind gradient reversal of strength
  `schedules.grl` (lambda(p) = 2 / (1 + exp(-10 p)) - 1).
- `mmd` (DAN, Long et al. 2015): + multi-kernel MMD between source and target
  features (Gaussian kernels, bandwidths spread by `kernel_mul` around the
  mean pairwise distance), its weight ramped by `schedules.ramp`.
- `coral` (Deep CORAL, Sun & Saenko 2016): + covariance matching, ramped.
- `dsan` (Zhu et al. 2020): + local (class-conditional) MMD with target soft
  labels (no gradient through them; classes absent from a batch masked out),
  ramped.

Every term comes from jaxser/methods/terms.py; the config picks them.
"""

from jaxser import models
from jaxser.methods import schedules, terms
from jaxser.methods.base import Method, terms_from_config

TERMS: dict = {}  # the shared terms only
SECTION = None  # no options of their own


def validate(config) -> None:
    """Nothing beyond the shared checks."""


def build(config, classes: tuple[str, ...], num_target: int) -> Method:
    discriminator = any(e.fn == "adversarial" for e in config.terms.values())
    model = models.SERModel(
        models.backbone(config),
        len(classes),
        config.model.bottleneck_dim,
        discriminator=discriminator,
        discriminator_hidden=config.model.discriminator_hidden,
    )
    return Method(
        config.method,
        model,
        terms_from_config(config, terms.TERMS),
        schedules=schedules.build(config.schedules),
        model_schedules={"grl_lambda": "grl"} if discriminator else {},
    )
