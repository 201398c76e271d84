"""Hyperparameter search spaces and their seeded random draws.

A method's config file declares where its settings live next to its
`get_config()`:

    def search_space():
        return base.search_space() | {
            "terms.adv.weight": ("choice", 0.0, 0.1, 0.3, 1.0),
            "schedules.grl.gamma": ("choice", 5.0, 10.0, 20.0),
        }

Each entry is a config key (dotted, as `--config.<key>`) and a distribution:
- ("choice", v1, v2, ...): one of the values, equally likely;
- ("log", lo, hi): log-uniform in [lo, hi], 3 significant digits;
- ("uniform", lo, hi): uniform in [lo, hi], 3 significant digits;
- ("int", lo, hi): an integer in [lo, hi].
A joint entry sets several keys together, one tuple of values per choice
(settings that only make sense together):

    "msac.control,terms.orth.weight": ("choice", ("reversal", 0.0), ("orthogonal", 0.1))

Draw 0 is the config's own defaults (no override); draws 1..N-1 are drawn
from `numpy.random.default_rng((seed, crc32(method), k))`: the same N
settings for every task and seed of a sweep, whatever else it runs, and the
same again for the same method name, space and search seed.
"""

import math
import zlib

import numpy as np

from jaxser import config as config_lib
from jaxser.config import ConfigError

KINDS = ("choice", "log", "uniform", "int")
Space = dict[str, tuple]


def load(config_file: str) -> Space:
    """The search space a config file declares (its `search_space()`), checked."""
    module = config_lib.load_module(config_file)
    fn = getattr(module, "search_space", None)
    if not callable(fn):
        raise ConfigError(
            f"config file {config_lib.resolve_file(config_file)} declares no search space: "
            "add a search_space() function returning {config key: distribution} "
            "(jaxser/search.py)"
        )
    space = fn()
    check(space, config_file)
    return space


def check(space: Space, where: str = "search space") -> None:
    """Every entry is a known distribution with valid bounds or values."""
    if not isinstance(space, dict) or not space:
        raise ConfigError(f"{where}: search_space() must return a non-empty dict")
    for key, dist in space.items():
        if not isinstance(dist, tuple) or not dist or dist[0] not in KINDS:
            raise ConfigError(
                f"{where}: search entry {key!r} = {dist!r}: expected (kind, ...) with kind "
                f"one of {list(KINDS)}"
            )
        kind, args = dist[0], dist[1:]
        width = len(key.split(","))
        if kind == "choice":
            if not args:
                raise ConfigError(f"{where}: search entry {key!r}: a choice needs values")
            if width > 1 and any(not isinstance(a, tuple) or len(a) != width for a in args):
                raise ConfigError(
                    f"{where}: joint search entry {key!r}: every choice is a tuple of "
                    f"{width} values"
                )
        elif width > 1:
            raise ConfigError(f"{where}: joint search entry {key!r} must be a choice")
        elif len(args) != 2 or not args[0] <= args[1]:
            raise ConfigError(f"{where}: search entry {key!r}: {kind} needs (lo, hi), lo <= hi")
        elif kind == "log" and args[0] <= 0:
            raise ConfigError(f"{where}: search entry {key!r}: log needs lo > 0")


def _round(x: float, digits: int = 3) -> float:
    if x == 0:
        return 0.0
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def _sample(rng: np.random.Generator, dist: tuple):
    kind, args = dist[0], dist[1:]
    if kind == "choice":
        return args[int(rng.integers(len(args)))]
    lo, hi = args
    if kind == "log":
        return _round(float(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
    if kind == "uniform":
        return _round(float(rng.uniform(lo, hi)))
    return int(rng.integers(lo, hi + 1))


def draw(space: Space, method: str, k: int, seed: int = 0) -> dict:
    """Draw `k` of `method`'s search: {config key: value}; {} for draw 0 (the
    config's defaults)."""
    if k == 0:
        return {}
    rng = np.random.default_rng((seed, zlib.crc32(method.encode()), k))
    out = {}
    for key in sorted(space):
        value = _sample(rng, space[key])
        keys = key.split(",")
        out |= dict(zip(keys, value, strict=True)) if len(keys) > 1 else {key: value}
    return out


def overrides(setting: dict) -> list[str]:
    """`key=value` overrides of a drawn setting (tuples as comma-separated)."""
    out = []
    for key, value in setting.items():
        text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        out.append(f"{key}={text}")
    return out
