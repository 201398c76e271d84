"""DANN: corpus discriminator behind gradient reversal (Ganin & Lempitsky 2015).

python -m jaxser.train --config configs/dann.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "dann"
    c.losses.adv = "adversarial"
    c.loss_weights.adv = 1.0
    return c
