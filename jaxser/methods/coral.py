"""Deep CORAL (Sun & Saenko 2016): match source and target feature covariances.

Loss: CE + coral, its weight ramped up with the GRL schedule.
"""

from jaxser.methods.base import Method, baseline


def build(config, num_classes: int, num_target: int) -> Method:
    return baseline("coral", config, num_classes)
