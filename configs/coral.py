"""Deep CORAL: match source and target feature covariances (Sun & Saenko 2016).

python -m jaxser.train --config configs/coral.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "coral"
    c.terms.coral = dict(fn="coral", weight=1.0, schedule="ramp")
    return c
