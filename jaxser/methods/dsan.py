"""DSAN (Zhu et al. 2020): local MMD, class-conditional with target soft labels.

Loss: CE + lmmd; target rows are weighted by the predicted class probabilities
(no gradient through them), classes absent from a batch are masked out; the
weight ramps up with the GRL schedule.
"""

from jaxser.methods.base import Method, baseline


def build(config, classes: tuple[str, ...], num_target: int) -> Method:
    return baseline("dsan", config, len(classes))
