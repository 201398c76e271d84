"""MSAC-SERNet with the orthogonality alternative to speaker reversal: the
speaker head reads its own attribute embedding (trained to identify the
speaker, no reversal), and a difference loss keeps that embedding orthogonal
to the emotion embedding (jaxser/methods/msac.py).

    python -m jaxser.train --config configs/msac_orth.py
"""

from configs import msac


def get_config():
    c = msac.get_config()
    c.msac.control = "orthogonal"
    c.terms.orth.weight = 0.1
    return c


def search_space():
    return msac.fixed_control_search_space() | {
        "terms.orth.weight": ("choice", 0.0, 0.03, 0.1, 0.3)
    }
