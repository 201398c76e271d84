"""DIDAN (Zhao et al., ICASSP 2023): a regression CNN with implicit distribution
alignment, marginal and class-conditional, on the output layer.

    python -m jaxser.train --config configs/didan.py

Every decision is an option, documented in jaxser/methods/didan.py. Variants:

    # IDA on the last hidden layer (FC2) instead of the output layer
    python -m jaxser.train --config configs/didan.py \\
        --config.loss.ida_marginal_layer=fc2 --config.loss.ida_class_layer=fc2
    # sparse (ISTA) instead of ridge coefficients; absolute instead of relative residual
    python -m jaxser.train --config configs/didan.py --config.loss.ida_sparse=True
    python -m jaxser.train --config configs/didan.py --config.loss.ida_relative=False
    # cross-entropy instead of regression
    python -m jaxser.train --config configs/didan.py --config.losses.reg=cross_entropy \\
        --config.loss.ida_scores=softmax
    # marginal IDA only
    python -m jaxser.train --config configs/didan.py --config.loss_weights.ida_class=0
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "didan"
    c.data.balanced = True  # every class in every source batch (class-conditional IDA)
    c.model.fc_dims = (256, 128)  # FC1, FC2; FC3 is the output
    c.losses = {"reg": "mse", "ida": "ida_marginal", "ida_class": "ida_class"}
    c.loss_weights = {"reg": 1.0, "ida": 1.0, "ida_class": 1.0}
    c.loss.ida_mu = 0.1  # ridge (or L1) weight of the coefficients
    c.loss.ida_relative = True  # residual relative to ||H_t||^2 (else per target row)
    c.loss.ida_sparse = False  # ISTA (L1) coefficients instead of the ridge closed form
    c.loss.ida_ista_steps = 50
    c.loss.ida_marginal_layer = "fc3"  # "fc1", "fc2" or "fc3" (the output)
    c.loss.ida_class_layer = "fc3"
    c.loss.ida_group_layer = "fc2"  # LIDAN's coarse groups
    c.loss.ida_groups = "angry,fear,happy,surprise/boredom,calm,disgust,neutral,sad"
    c.loss.ida_scores = "output"  # target class scores: "output" (regression) or "softmax"
    c.loss.ida_confidence = 0.5  # pseudo-label floor of the conditional forms
    c.loss.ida_warmup = 0.1  # share of steps without conditional IDA
    return c
