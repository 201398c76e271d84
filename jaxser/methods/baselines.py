"""The UDA baselines the papers compare with, on one model: backbone ->
bottleneck -> classifier (+ a corpus discriminator behind gradient reversal
when a term is "adversarial").

- `source_only`: CE on the labelled source (label smoothing); no adaptation.
  Source and target are forwarded together, so BatchNorm statistics see the
  target (docs/design.md).
- `source_model`: the same CE on the source alone: no target batch reaches it,
  not even through BatchNorm statistics. Stage 1 of source-free adaptation
  (jaxser/methods/source_free.py); only source terms may have a weight.
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
from jaxser.config import ConfigError
from jaxser.methods import schedules, terms
from jaxser.methods.base import Method, terms_from_config

TERMS: dict = {}  # the shared terms only
SECTION = None  # no options of their own
SOURCE_TERMS = ("cross_entropy",)  # the terms a source model (no target half) may use


def validate(config) -> None:
    """A source model uses source terms only."""
    if config.method != "source_model":
        return
    for name, entry in config.terms.items():
        if float(entry.weight) != 0.0 and entry.fn not in SOURCE_TERMS:
            raise ConfigError(
                f"config.terms.{name} ({entry.fn}) needs the target, which a source model "
                f"never sees; its terms may be {list(SOURCE_TERMS)} (or set the weight to 0)"
            )


def build(config, classes: tuple[str, ...], num_target: int | None) -> Method:
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
        halves="source" if config.method == "source_model" else "source_target",
        schedules=schedules.build(config.schedules),
        model_schedules={"grl_lambda": "grl"} if discriminator else {},
    )
