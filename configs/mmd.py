"""DAN: multi-kernel MMD between source and target features (Long et al. 2015).

python -m jaxser.train --config configs/mmd.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "mmd"
    c.terms.mmd = dict(fn="mmd", weight=1.0, schedule="ramp", kernels=5, kernel_mul=2.0)
    return c


def search_space():
    return base.adaptation_search_space() | {
        "terms.mmd.weight": ("choice", 0.0, 0.1, 0.3, 1.0, 3.0),
        "schedules.ramp.gamma": ("choice", 3.0, 10.0, 30.0),
    }
