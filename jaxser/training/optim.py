"""The optimizer: AdamW or SGD with momentum, warm-up + cosine decay, gradient
clipping, and per-parameter learning-rate multipliers (0 freezes a parameter)."""

import re
from collections.abc import Sequence

import jax
import optax

from jaxser.config import ConfigError, names


def parse_multipliers(spec: str) -> tuple[tuple[str, float], ...]:
    """ "regex=multiplier,..." -> ((regex, multiplier), ...); regexes are searched in
    the "/"-joined parameter path, e.g. "classifier=0,backbone/Conv_0=0.1"."""
    rules = []
    for item in names(spec):
        pattern, sep, value = item.rpartition("=")
        try:
            rules.append((pattern, float(value)))
            re.compile(pattern)
        except (ValueError, re.error) as e:
            raise ConfigError(
                f"config.train.lr_multipliers: cannot read {item!r} as regex=multiplier ({e})"
            ) from None
        if not sep or not pattern or rules[-1][1] < 0:
            raise ConfigError(
                f"config.train.lr_multipliers: {item!r} is not regex=multiplier (multiplier >= 0)"
            )
    return tuple(rules)


def path_name(path) -> str:
    return "/".join(str(getattr(k, "key", getattr(k, "name", k))) for k in path)


def multipliers(params, rules: Sequence[tuple[str, float]]):
    """The learning-rate multiplier of every parameter: the first rule whose regex
    is found in its path, else 1."""

    def one(path, _):
        name = path_name(path)
        return next((m for pattern, m in rules if re.search(pattern, name)), 1.0)

    return jax.tree_util.tree_map_with_path(one, params)


def _scale_by_multipliers(rules) -> optax.GradientTransformation:
    def update(updates, state, params=None):
        mult = multipliers(updates, rules)
        return jax.tree.map(lambda m, u: m * u, mult, updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def make_optimizer(t, rules: Sequence[tuple[str, float]] = ()) -> optax.GradientTransformation:
    """From the config's `train` section. With `rules`, frozen parameters (multiplier
    0) get no update, no optimizer state, and no share in the clipped gradient
    norm; the others' updates are scaled by their multiplier."""
    schedule = optax.warmup_cosine_decay_schedule(
        0.0,
        t.learning_rate,
        t.warmup_steps,
        max(t.steps, t.warmup_steps + 1),
        end_value=0.01 * t.learning_rate,
    )
    if t.optimizer == "adam":
        opt = optax.adamw(schedule, weight_decay=t.weight_decay)
    else:
        opt = optax.chain(
            optax.add_decayed_weights(t.weight_decay),
            optax.sgd(schedule, momentum=t.momentum, nesterov=True),
        )
    base = optax.chain(optax.clip_by_global_norm(t.grad_clip), opt)
    if not rules:
        return base

    def labels(params):
        return jax.tree.map(lambda m: "frozen" if m == 0 else "train", multipliers(params, rules))

    masked = optax.multi_transform({"train": base, "frozen": optax.set_to_zero()}, labels)
    if all(m in (0.0, 1.0) for _, m in rules):
        return masked
    return optax.chain(masked, _scale_by_multipliers(rules))
