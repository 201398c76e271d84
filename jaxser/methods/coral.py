"""Deep CORAL (Sun & Saenko 2016): match source and target feature covariances.

Loss: CE + coral, its weight ramped up with the GRL schedule.
"""

from jaxser.methods.base import Method, baseline


def build(config, classes: tuple[str, ...], num_target: int) -> Method:
    return baseline("coral", config, len(classes))
