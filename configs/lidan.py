"""LIDAN (the journal extension of DIDAN): layer-adapted implicit distribution
alignment: marginal IDA at FC1, coarse-group IDA at FC2 (high vs low arousal by
default), fine-class IDA at FC3 (the output).

    python -m jaxser.train --config configs/lidan.py

Options as in configs/didan.py (documented in jaxser/methods/didan.py), e.g.
other coarse groups ("/" between groups, "," between emotions):

    python -m jaxser.train --config configs/lidan.py \\
        --config.loss.ida_groups=angry,happy,surprise/fear,disgust,sad/boredom,calm,neutral
"""

from configs import didan


def get_config():
    c = didan.get_config()
    c.method = "lidan"
    c.losses = {
        "reg": "mse",
        "ida": "ida_marginal",
        "ida_group": "ida_group",
        "ida_class": "ida_class",
    }
    c.loss_weights = {"reg": 1.0, "ida": 1.0, "ida_group": 1.0, "ida_class": 1.0}
    c.loss.ida_marginal_layer = "fc1"
    c.loss.ida_group_layer = "fc2"
    c.loss.ida_class_layer = "fc3"
    return c
