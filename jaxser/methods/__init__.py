"""Methods by name: `build(config, num_classes, num_target) -> Method`."""

from jaxser.methods import coral, dann, dsan, emodna, mmd, source_only
from jaxser.methods.base import Method

METHODS = {
    "source_only": source_only.build,
    "dann": dann.build,
    "mmd": mmd.build,
    "coral": coral.build,
    "dsan": dsan.build,
    "emodna": emodna.build,
}


def build(config, num_classes: int, num_target: int) -> Method:
    if config.method not in METHODS:
        raise KeyError(f"unknown method {config.method!r}; known: {sorted(METHODS)}")
    return METHODS[config.method](config, num_classes, num_target)


__all__ = ["METHODS", "Method", "build"]
