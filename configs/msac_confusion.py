"""MSAC-SERNet with the confusion alternative to speaker reversal (Alvi et al.
2018; Tzeng et al. 2015): the speaker head reads the embedding with its
gradient stopped and is trained normally; the confusion term moves the
embedding until that head's prediction carries no more than the batch's speaker
prior (jaxser/methods/msac.py).

The head is the adversary: one that cannot follow the embedding is confused
without the speaker leaving it (docs/results.md, "speaker confusion"). A
stronger one learns faster than the rest of the model:
`--config.train.lr_multipliers=speaker_head=10`, searched below.

    python -m jaxser.train --config configs/msac_confusion.py
"""

from configs import msac


def get_config():
    c = msac.get_config()
    c.msac.control = "confusion"
    c.terms.confusion.weight = 0.3
    return c


def search_space():
    return msac.fixed_control_search_space() | {
        "terms.confusion.weight": ("choice", 0.0, 0.1, 0.3, 1.0),
        "train.lr_multipliers": ("choice", "", "speaker_head=10"),
    }
