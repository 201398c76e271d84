"""Pure loss functions, and the registry of loss terms configs pick by name."""

from jaxser.losses.adversarial import domain_adversarial, grad_reverse, grl_schedule
from jaxser.losses.classification import cross_entropy, diversity, entropy
from jaxser.losses.discrepancy import coral, lmmd, mk_mmd, multi_kernel
from jaxser.losses.terms import TERMS, Context, get, register

__all__ = [
    "TERMS",
    "Context",
    "coral",
    "cross_entropy",
    "diversity",
    "domain_adversarial",
    "entropy",
    "get",
    "grad_reverse",
    "grl_schedule",
    "lmmd",
    "mk_mmd",
    "multi_kernel",
    "register",
]
