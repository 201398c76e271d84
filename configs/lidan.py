"""LIDAN (the journal extension of DIDAN): layer-adapted implicit distribution
alignment: marginal IDA at FC1, coarse-group IDA at FC2 (high vs low arousal by
default), fine-class IDA at FC3 (the output).

    python -m jaxser.train --config configs/lidan.py

Options as in configs/didan.py (documented in jaxser/methods/didan.py), e.g.
other coarse groups ("/" between groups, "," between emotions):

    python -m jaxser.train --config configs/lidan.py \\
        --config.terms.ida_group.groups=angry,happy,surprise/fear,disgust,sad/boredom,calm,neutral
"""

from configs import didan
from jaxser.methods.didan import AROUSAL_GROUPS


def get_config():
    c = didan.get_config()
    c.method = "lidan"
    c.terms.ida.layer = "fc1"
    c.terms.ida_group = dict(
        fn="ida_group",
        weight=0.1,  # as DIDAN's IDA terms [decision, development tasks; docs/results.md]
        layer="fc2",
        groups=AROUSAL_GROUPS,  # high vs low arousal: the halves of labels.BINARY
    )
    c.terms.ida_class.layer = "fc3"
    return c


def search_space():
    return didan.search_space() | {
        "terms.ida_group.weight": ("choice", 0.0, 0.03, 0.1, 0.3, 1.0),
    }


def frozen():
    """Chosen by `oracle` on the development tasks (tools/freeze.py)."""
    return {
        # draw 3: mean target UAR 0.474 over 12 cells
        "categorical": {
            "didan.mu": 0.0487,
            "terms.ida.weight": 1.0,
            "terms.ida_class.weight": 0.1,
            "terms.ida_group.weight": 0.1,
            "train.learning_rate": 0.00067,
            "train.pretrain": "source_only.py",
            "train.pretrain_steps": 300,
            "train.warmup_steps": 0,
        },
    }
