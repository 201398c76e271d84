"""Schedules: functions of training progress p in [0, 1] -> a scalar (a gradient
reversal strength, a ramped loss weight).

A config names them in `config.schedules.<name> = dict(kind=..., **options)`;
`build` turns each into a function of p. Kinds (their keyword options are the
config's options):
- "sigmoid": scale * (2 / (1 + exp(-gamma p)) - 1), DANN's ramp (Ganin &
  Lempitsky 2015): 0 at the start, -> scale at the end;
- "constant": value;
- "linear": scale * clip((p - start) / (end - start), 0, 1);
- "inverse_power": scale * (1 + gamma p) ** -power, a decay (AaD's alpha(t)
  with gamma 10, power 5).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxser.config import ConfigError, check_options
from jaxser.losses.adversarial import grl_schedule

Schedule = Callable[[jax.Array], jax.Array]


def sigmoid(p: jax.Array, *, gamma: float = 10.0, scale: float = 1.0) -> jax.Array:
    return scale * grl_schedule(p, gamma)


def constant(p: jax.Array, *, value: float = 1.0) -> jax.Array:
    return jnp.full((), value, jnp.float32)


def linear(p: jax.Array, *, start: float = 0.0, end: float = 1.0, scale: float = 1.0) -> jax.Array:
    return scale * jnp.clip((p - start) / max(end - start, 1e-9), 0.0, 1.0)


def inverse_power(
    p: jax.Array, *, gamma: float = 10.0, power: float = 5.0, scale: float = 1.0
) -> jax.Array:
    return scale * (1.0 + gamma * p) ** (-power)


KINDS: dict[str, Callable[..., jax.Array]] = {
    "sigmoid": sigmoid,
    "constant": constant,
    "linear": linear,
    "inverse_power": inverse_power,
}


def check(schedules) -> None:
    """Every entry has a known kind and only that kind's options."""
    for name, entry in schedules.items():
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ConfigError(
                f"config.schedules.{name}.kind={kind!r} is unknown; known: {sorted(KINDS)}"
            )
        check_options(f"config.schedules.{name}", kind, KINDS[kind], entry, ("kind",))


def build(schedules) -> dict[str, Schedule]:
    """Name -> function of progress, from `config.schedules` (checked by `check`)."""
    out = {}
    for name, entry in schedules.items():
        fn, options = KINDS[entry["kind"]], {k: v for k, v in entry.items() if k != "kind"}
        out[name] = lambda p, fn=fn, options=options: fn(p, **options)
    return out
