"""DANN: corpus discriminator behind gradient reversal (Ganin & Lempitsky 2015).

python -m jaxser.train --config configs/dann.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "dann"
    c.terms.adv = dict(fn="adversarial", weight=1.0)  # strength: c.schedules.grl
    return c


def search_space():
    return base.adaptation_search_space() | {
        "terms.adv.weight": ("choice", 0.0, 0.1, 0.3, 1.0),
        "schedules.grl.scale": ("choice", 0.1, 0.3, 1.0),
    }
