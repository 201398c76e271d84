"""DANN (Ganin & Lempitsky 2015): a corpus discriminator behind gradient reversal.

Loss: CE + adv. The discriminator (two hidden layers) sees the bottleneck
features through a gradient reversal layer whose strength follows
lambda(p) = 2 / (1 + exp(-10 p)) - 1 (times `loss.grl_max`).
"""

from jaxser.methods.base import Method, baseline


def build(config, classes: tuple[str, ...], num_target: int) -> Method:
    return baseline("dann", config, len(classes), discriminator=True)
