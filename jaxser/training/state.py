"""`TrainState`: everything a step changes, one pytree (checkpointed whole)."""

import dataclasses
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from jaxser.methods.base import Method


class TrainState(flax.struct.PyTreeNode):
    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    method_state: Any

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def init_state(method: Method, tx, batch: dict, seed: int) -> TrainState:
    """Parameters from the model's init on one batch's target half (only its shapes
    matter: every half has the same shapes)."""
    x, mask = batch["target"]["x"], batch["target"]["mask"]
    variables = method.model.init(jax.random.key(seed), x, mask, train=False)
    params = variables["params"]
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        batch_stats=variables.get("batch_stats", {}),
        opt_state=tx.init(params),
        method_state=method.init_state(),
    )
