"""source_model: a source model trained on the source corpus alone, the first
stage of source-free adaptation (shot.py, nrc.py, aad.py, ecan.py train it
once and share it). No target batch reaches it, not even through BatchNorm
statistics; its target figures are the source-free runs' `before_adaptation`.

    python -m jaxser.train --config configs/source_model.py
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "source_model"
    return c


def search_space():
    return base.search_space()
