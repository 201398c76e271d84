"""Methods by name. `METHODS` maps a method name to the module that builds it;
each such module has

- `TERMS`: its own loss terms (name -> function), beside the shared
  `jaxser.methods.terms.TERMS`;
- `SECTION`: the name of its own config section (`config.<SECTION>`, handed
  to its terms as `ctx.options`), or None;
- `validate(config)`: checks its options, without data, raising ConfigError;
- `build(config, classes, num_target) -> Method` (classes: the task's emotion
  names in label order; num_target: the target utterances to adapt on, or
  None for a model that only predicts: memory banks and other per-utterance
  state are then sized 1 and never used).
"""

from jaxser.config import ConfigError
from jaxser.methods import baselines, didan, emodna, msac, schedules, source_free, terms
from jaxser.methods.base import Method, check_terms

METHODS = {
    "source_only": baselines,
    "dann": baselines,
    "mmd": baselines,
    "coral": baselines,
    "dsan": baselines,
    "emodna": emodna,
    "didan": didan,
    "lidan": didan,
    "source_model": baselines,
    "shot": source_free,
    "nrc": source_free,
    "aad": source_free,
    "ecan": source_free,
    "msac": msac,
}


def module(name: str):
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; known: {sorted(METHODS)}")
    return METHODS[name]


def is_source_free(name: str) -> bool:
    """Whether the method adapts a source model with target batches only."""
    return module(name) is source_free


def term_registry(name: str) -> dict:
    """The loss functions a method's terms may name."""
    return terms.TERMS | module(name).TERMS


def validate(config) -> None:
    """The method's name, schedules, terms and own options, before any data or work."""
    m = module(config.method)
    schedules.check(config.schedules)
    check_terms(config, term_registry(config.method))
    if m.SECTION is not None and m.SECTION not in config:
        raise ConfigError(f"method {config.method!r} needs the config section {m.SECTION!r}")
    m.validate(config)


def build(config, classes: tuple[str, ...], num_target: int | None) -> Method:
    """The method of `config` on the task's classes; its own options are checked
    first (`validate`), the class-dependent ones by its build."""
    m = module(config.method)
    m.validate(config)
    return m.build(config, tuple(classes), num_target)


__all__ = ["METHODS", "Method", "build", "is_source_free", "module", "term_registry", "validate"]
