import sys
from pathlib import Path

import pytest

# tests import their helpers (fakes.py) and the tools/ scripts by module name
sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "tools")]

# Small renders of the synthetic corpora, shared by the data tests.
SMALL = {"synth_emodb": 3, "synth_casia": 5}


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory) -> Path:
    """A data dir with small synth_emodb and synth_casia stores prepared."""
    from jaxser.data import store

    root = tmp_path_factory.mktemp("jaxser_data")
    for name, texts in SMALL.items():
        store.prepare(name, data_dir=root, workers=1, synth_max_texts=texts)
    return root
