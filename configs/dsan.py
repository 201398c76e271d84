"""DSAN: local (class-conditional) MMD with target soft labels (Zhu et al. 2020).

python -m jaxser.train --config configs/dsan.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "dsan"
    c.terms.lmmd = dict(fn="lmmd", weight=1.0, schedule="ramp", kernels=5, kernel_mul=2.0)
    return c
