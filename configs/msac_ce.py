"""MSAC-SERNet's plain baseline: the same model (CNN frames, attentive statistics
pooling, 256-d embedding, cosine head at scale 30) trained with cross-entropy
without margin and without attribute control (no speaker, gender or corpus
heads in the loss). The reference MSAC-SERNet is compared with.

    python -m jaxser.train --config configs/msac_ce.py
"""

from configs import base, msac


def get_config():
    c = msac.get_config()
    c.terms.am.margin = 0.0
    c.terms.speaker.weight = 0.0
    c.terms.gender.weight = 0.0
    c.terms.adv.weight = 0.0
    return c


def search_space():
    return base.search_space()
