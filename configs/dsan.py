"""DSAN: local (class-conditional) MMD with target soft labels (Zhu et al. 2020).

python -m jaxser.train --config configs/dsan.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "dsan"
    c.losses.lmmd = "lmmd"
    c.loss_weights.lmmd = 1.0
    c.loss.ramp_terms = "lmmd"
    return c
