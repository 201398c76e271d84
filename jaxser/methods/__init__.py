"""Methods by name: `build(config, classes, num_target) -> Method` (classes: the
task's emotion names, in label order; num_target: the target utterances to adapt on)."""

from jaxser.methods import coral, dann, didan, dsan, emodna, mmd, source_only
from jaxser.methods.base import Method

METHODS = {
    "source_only": source_only.build,
    "dann": dann.build,
    "mmd": mmd.build,
    "coral": coral.build,
    "dsan": dsan.build,
    "emodna": emodna.build,
    "didan": didan.build,
    "lidan": didan.build,
}


def build(config, classes: tuple[str, ...], num_target: int) -> Method:
    if config.method not in METHODS:
        raise KeyError(f"unknown method {config.method!r}; known: {sorted(METHODS)}")
    return METHODS[config.method](config, tuple(classes), num_target)


__all__ = ["METHODS", "Method", "build"]
