"""SHOT (Liang et al. 2020), source-free: the source model's classifier frozen,
information maximisation and centroid pseudo-labels (weight cls_par = 0.3)
refreshed every epoch of the target. Decisions: jaxser/methods/source_free.py.

    python -m jaxser.train --config configs/shot.py
    # adapt a given source model (a run folder of configs/source_model.py)
    python -m jaxser.train --config configs/shot.py --config.source_model=DIR
    # without the pseudo-labels (information maximisation only)
    python -m jaxser.train --config configs/shot.py --config.terms.pl.weight=0
"""

from configs import base


def get_config():
    c = base.source_free_config()
    c.method = "shot"
    c.source_free.freeze_classifier = True
    c.terms.ent = dict(fn="entropy", weight=1.0)
    c.terms.div = dict(fn="diversity", weight=1.0)
    c.terms.pl = dict(fn="shot_pseudo_label", weight=0.3)
    return c


def search_space():
    return base.source_free_search_space() | {
        "terms.ent.weight": ("choice", 0.3, 1.0),
        "terms.pl.weight": ("choice", 0.0, 0.1, 0.3, 1.0),
    }


def frozen():
    """Chosen by `oracle` on the development tasks (tools/freeze.py)."""
    return {
        # draw 4: mean target UAR 0.533 over 12 cells
        "categorical": {
            "source_free.backbone_lr": 0.1,
            "terms.ent.weight": 1.0,
            "terms.pl.weight": 0.3,
            "train.learning_rate": 9.22e-05,
            "train.warmup_steps": 50,
        },
    }
