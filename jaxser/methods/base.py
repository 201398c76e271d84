"""The method abstraction (DESIGN.md): a model, weighted loss terms, a method state.

A `Method` is plain data. The trainer runs the model on the concatenated
source + target batch, splits the outputs back into `out["source"]` and
`out["target"]`, sums `weight * term(out, batch, ctx)` over the terms (weights of
`ramped` terms follow the GRL schedule), then calls `update_state` (memory
banks, thresholds, EMA statistics) inside the same jit-compiled step.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import flax.linen as nn

from jaxser import models
from jaxser.losses import terms as loss_terms

StateUpdate = Callable[[Any, dict, dict, loss_terms.Context], Any]


@dataclasses.dataclass(frozen=True)
class Method:
    name: str
    model: nn.Module  # __call__(x, mask, *, train, grl_lambda) -> dict of outputs
    terms: dict[str, tuple[loss_terms.Term, float]]  # term name -> (function, weight)
    ramped: frozenset[str] = frozenset()  # terms whose weight ramps up with the GRL schedule
    init_state: Callable[[], Any] = dict  # -> the method state pytree
    update_state: StateUpdate | None = None
    # (method state, target predictions: a dict of "probs" and "logits" [N, C],
    # "features" [N, D] and the evaluation "labels" [N]) -> scalars logged at each
    # evaluation, for monitoring only (never for model selection).
    monitor: Callable[[Any, dict], dict] | None = None


def terms_from_config(config) -> dict[str, tuple[loss_terms.Term, float]]:
    """Term name -> (registered function, weight), from `config.losses` and
    `config.loss_weights`; terms of weight 0 are left out (an ablation)."""
    names, weights = set(config.losses), set(config.loss_weights)
    if names != weights:
        raise KeyError(
            f"config.losses names terms {sorted(names)} but config.loss_weights has "
            f"{sorted(weights)}; every term needs a function and a weight"
        )
    return {
        term: (loss_terms.get(config.losses[term]), float(config.loss_weights[term]))
        for term in sorted(names)
        if float(config.loss_weights[term]) != 0.0
    }


def ramped_terms(config) -> frozenset[str]:
    ramped = {t.strip() for t in config.loss.ramp_terms.split(",") if t.strip()}
    unknown = ramped - set(config.losses)
    if unknown:
        raise KeyError(
            f"config.loss.ramp_terms names unknown terms {sorted(unknown)}; "
            f"terms: {sorted(config.losses)}"
        )
    return frozenset(ramped)


def baseline(name: str, config, num_classes: int, discriminator: bool = False) -> Method:
    """A method on the baseline SERModel whose loss terms all come from the config."""
    model = models.SERModel(
        models.backbone(config),
        num_classes,
        config.model.bottleneck_dim,
        discriminator=discriminator,
        discriminator_hidden=config.model.discriminator_hidden,
    )
    return Method(name, model, terms_from_config(config), ramped_terms(config))
