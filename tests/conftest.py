import sys
from pathlib import Path

import pytest

# tests import their helpers (fakes.py) and the tools/ scripts by module name
sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "tools")]


def pytest_configure(config):
    """The test process's malloc set as `python -m jaxser.train` sets its own
    (jaxser/host_memory.py), before any test starts a thread: the in-process
    training tests then run as a run does, without a page fault per buffer."""
    from jaxser import host_memory

    host_memory.configure()


# One compilation cache for the whole session (jaxser/compilation.py): a test's
# build of a shape another test compiled reads the executables back. Each
# session starts empty; a test that sets train.compilation_cache keeps its own.
@pytest.fixture(scope="session", autouse=True)
def _compilation_cache(tmp_path_factory):
    import os

    from jaxser import compilation

    old = os.environ.get(compilation.ENV)
    os.environ[compilation.ENV] = str(tmp_path_factory.mktemp("xla_cache"))
    yield
    if old is None:
        os.environ.pop(compilation.ENV, None)
    else:
        os.environ[compilation.ENV] = old


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
