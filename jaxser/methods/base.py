"""What a method is: a model, loss terms, schedules, a state, and how the step runs it.

A `Method` is plain data that the generic train step (jaxser/training/step.py)
reads; it never calls the trainer. Its parts:

- `model`: a Flax module, `model.apply(variables, x, mask, train=..., **kw)`
  returning a dict of outputs ("logits", "features", ...). `kw` holds one
  scalar per entry of `model_schedules` (model keyword -> schedule name), e.g.
  the strength of a gradient reversal.
- `halves`: "source_target" (the step forwards source and target together and
  splits the outputs into `out["source"]` and `out["target"]`), "target"
  (source-free adaptation: only `out["target"]`; a batch with a source half is
  refused when the step is traced) or "source" (a source model trained on the
  source alone: only `out["source"]`; a batch with a target half is refused).
- `terms`: name -> `Term`; the loss is the sum of `weight(progress) * value` in
  name order. Terms of weight 0 are left out (an ablation).
- `schedules`: name -> progress in [0, 1] -> scalar (jaxser/methods/schedules.py);
  each is evaluated once per step, logged as `schedule/<name>`, and seen by
  the terms in `ctx.schedules`.
- `lr_multipliers`: (regex over the "/"-joined parameter path, multiplier)
  pairs, the first match wins; 0 freezes the parameter.
- `init_state()`: the method state pytree (thresholds, memory banks), kept in
  `TrainState.method_state` and checkpointed with it;
  `update_state(state, out, batch, ctx)` updates it inside the step (no gradient
  flows through `out`); `fill_state(state, target)` fills it from one
  prediction pass over the unlabelled target before the first step;
  `refresh(state, target, step)` runs on the host every `refresh_every` steps.
  `target` holds per-utterance "probs", "logits" and "features" of the target
  utterances the method adapts on, in the order of `batch["target"]["index"]`,
  and never labels.
- `monitor(state, target)`: scalars logged at each evaluation (`target` holds
  the evaluation's predictions and labels), for monitoring only, never for
  model selection.
- `evaluators`: name -> evaluator added to the config's (jaxser/evaluation/).
"""

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxser.config import ConfigError, check_options

HALVES = ("source_target", "target", "source")
# the halves of the training batch each kind of method runs on
BATCH_HALVES = {"source_target": ("source", "target"), "target": ("target",), "source": ("source",)}
# The keys of a term's config entry that are not options of its function.
TERM_KEYS = ("fn", "weight", "schedule")


class Context(NamedTuple):
    """What a loss term sees beside the model outputs and the batch."""

    step: jax.Array
    progress: jax.Array  # step / total steps, in [0, 1]
    state: Any  # the method's state pytree
    options: Any  # the method's own config section (static Python values)
    classes: tuple[str, ...]  # the task's emotion names, in label order
    schedules: Mapping[str, jax.Array] = {}  # this step's value of each schedule

    @property
    def num_classes(self) -> int:
        return len(self.classes)


# term function: fn(out, batch, ctx, **options) -> scalar, or (scalar, dict of scalars)
TermFn = Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class Term:
    fn: TermFn
    weight: float = 1.0
    schedule: str = ""  # a schedule name: the weight is multiplied by it; "" = constant
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __call__(self, out: dict, batch: dict, ctx: Context) -> tuple[jax.Array, dict]:
        value = self.fn(out, batch, ctx, **self.options)
        if isinstance(value, tuple):
            return jnp.asarray(value[0]), dict(value[1])
        return jnp.asarray(value), {}


@dataclasses.dataclass(frozen=True)
class Method:
    name: str
    model: nn.Module
    terms: Mapping[str, Term]
    halves: str = "source_target"
    schedules: Mapping[str, Callable[[jax.Array], jax.Array]] = dataclasses.field(
        default_factory=dict
    )
    model_schedules: Mapping[str, str] = dataclasses.field(default_factory=dict)
    options: Any = None  # handed to the terms as `ctx.options`
    lr_multipliers: tuple[tuple[str, float], ...] = ()
    init_state: Callable[[], Any] = dict
    update_state: Callable[[Any, dict, dict, Context], Any] | None = None
    fill_state: Callable[[Any, dict], Any] | None = None
    refresh_every: int = 0
    refresh: Callable[[Any, dict, int], Any] | None = None
    monitor: Callable[[Any, dict], dict] | None = None
    evaluators: Mapping[str, Callable] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.halves not in HALVES:
            raise ValueError(f"unknown halves {self.halves!r}; known: {list(HALVES)}")
        needed = {t.schedule for t in self.terms.values() if t.schedule}
        needed |= set(self.model_schedules.values())
        if missing := needed - set(self.schedules):
            raise ValueError(
                f"method {self.name!r} uses schedules {sorted(missing)} it does not define; "
                f"defined: {sorted(self.schedules)}"
            )
        if (self.refresh is None) != (self.refresh_every == 0):
            raise ValueError("a host-side refresh needs both `refresh` and `refresh_every` > 0")


def check_terms(config, registry: Mapping[str, TermFn]) -> None:
    """Every `config.terms.<name>` names a function of `registry`, a weight, a
    schedule of `config.schedules` (or none) and only options that function takes."""
    if not config.terms:
        raise ConfigError("config.terms is empty: nothing to train")
    for name, entry in config.terms.items():
        where = f"config.terms.{name}"
        if "fn" not in entry or "weight" not in entry:
            raise ConfigError(f"{where} needs 'fn' and 'weight' (has {sorted(entry)})")
        if entry.fn not in registry:
            raise ConfigError(
                f"unknown loss function {where}.fn={entry.fn!r} for method "
                f"{config.method!r}; known: {sorted(registry)}"
            )
        schedule = entry.get("schedule", "")
        if schedule and schedule not in config.schedules:
            raise ConfigError(
                f"{where}.schedule={schedule!r} is not a schedule; "
                f"config.schedules: {sorted(config.schedules)}"
            )
        check_options(where, entry.fn, registry[entry.fn], entry, TERM_KEYS)
    if all(float(e.weight) == 0.0 for e in config.terms.values()):
        raise ConfigError("every loss term has weight 0: nothing to train")


def terms_from_config(config, registry: Mapping[str, TermFn]) -> dict[str, Term]:
    """Term name -> `Term`, from `config.terms` (checked by `check_terms`); terms of
    weight 0 are left out, the rest sorted by name."""
    terms = {}
    for name in sorted(config.terms):
        entry = config.terms[name]
        if float(entry.weight) == 0.0:
            continue
        options = {k: v for k, v in entry.items() if k not in TERM_KEYS}
        terms[name] = Term(
            registry[entry.fn], float(entry.weight), entry.get("schedule", ""), options
        )
    return terms
