"""Pure loss functions (the maths): inputs and shapes in each docstring.

The terms that adapt model outputs to them live with the methods
(jaxser/methods/terms.py and each method's module).
"""

from jaxser.losses.adversarial import domain_adversarial, grad_reverse, grl_schedule
from jaxser.losses.classification import cross_entropy, diversity, entropy
from jaxser.losses.discrepancy import coral, lmmd, mk_mmd, multi_kernel

__all__ = [
    "coral",
    "cross_entropy",
    "diversity",
    "domain_adversarial",
    "entropy",
    "grad_reverse",
    "grl_schedule",
    "lmmd",
    "mk_mmd",
    "multi_kernel",
]
