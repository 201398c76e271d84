"""AaD (Yang et al. 2022), source-free: attract the K = 5 bank neighbours'
predictions, disperse the batch with weight alpha(t) = (1 + 10 t)^-beta,
beta = 5. Decisions: jaxser/methods/source_free.py.

    python -m jaxser.train --config configs/aad.py
    python -m jaxser.train --config configs/aad.py --config.schedules.alpha.power=0
"""

from configs import base


def get_config():
    c = base.source_free_config()
    c.method = "aad"
    c.schedules.alpha = dict(kind="inverse_power", gamma=10.0, power=5.0, scale=1.0)
    c.terms.attract = dict(fn="neighbour_attract", weight=1.0, k=5)
    c.terms.disperse = dict(fn="batch_disperse", weight=1.0, schedule="alpha")
    return c


def search_space():
    return base.source_free_search_space() | {
        "terms.attract.k": ("choice", 3, 5, 10),
        "schedules.alpha.power": ("choice", 1.0, 3.0, 5.0),
    }


def frozen():
    """Chosen by `oracle` on the development tasks (tools/freeze.py)."""
    return {
        # draw 0: mean target UAR 0.512 over 12 cells
        "categorical": {},
    }
