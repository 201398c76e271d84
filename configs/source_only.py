"""source_only: train on the labelled source corpus, test on the target.

    python -m jaxser.train --config configs/source_only.py

The no-adaptation reference every adaptation method must beat.
"""

from configs import base


def get_config():
    return base.get_config()


def search_space():
    return base.search_space()
