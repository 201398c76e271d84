"""DAN: multi-kernel MMD between source and target features (Long et al. 2015).

python -m jaxser.train --config configs/mmd.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "mmd"
    c.losses.mmd = "mmd"
    c.loss_weights.mmd = 1.0
    c.loss.ramp_terms = "mmd"
    return c
