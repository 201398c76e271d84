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


def frozen():
    """Chosen by `oracle` on the development tasks (tools/freeze.py)."""
    return {
        # draw 5: mean target UAR 0.882 over 12 cells
        "arousal": {
            "schedules.grl.scale": 1.0,
            "terms.adv.weight": 0.1,
            "train.learning_rate": 0.00118,
            "train.pretrain": "",
            "train.pretrain_steps": 0,
            "train.warmup_steps": 0,
        },
        # draw 1: mean target UAR 0.492 over 12 cells
        "categorical": {
            "schedules.grl.scale": 0.3,
            "terms.adv.weight": 1.0,
            "train.learning_rate": 0.00251,
            "train.pretrain": "source_only.py",
            "train.pretrain_steps": 150,
            "train.warmup_steps": 50,
        },
        # draw 1: mean target UAR 0.651 over 12 cells
        "valence": {
            "schedules.grl.scale": 0.3,
            "terms.adv.weight": 1.0,
            "train.learning_rate": 0.00251,
            "train.pretrain": "source_only.py",
            "train.pretrain_steps": 150,
            "train.warmup_steps": 50,
        },
    }
