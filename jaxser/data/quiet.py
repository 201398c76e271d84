"""TensorFlow imported without its C++ start-up lines.

TensorFlow's shared library writes, at import, absl's "All log messages before
absl::InitializeLog() is called are written to STDERR" and oneDNN's note on
round-off, whatever TF_CPP_MIN_LOG_LEVEL says. jaxser uses TensorFlow for
tf.data and TFDS only, so these lines are noise to a user: `tensorflow()`
imports it with file descriptor 2 pointed at /dev/null for the import alone
(Python errors raised by the import still reach the user, after it).

TensorFlow also imports Keras's optimizers at its own import (to register them
for SavedModel), which brings Keras and scikit-learn: a third of TensorFlow's
import time (docs/benchmarks.md, "Host memory and imports"), for nothing
jaxser uses. `tensorflow()` marks that one module absent for the import (its
ImportError TensorFlow catches) and takes the mark off after, so `tf.keras`
and `import keras` work as usual later in the process.
"""

import os
import sys

# imported by TensorFlow's __init__ inside a try/except ImportError
KERAS_EAGER = "keras.src.optimizers"


def opensmile_first() -> None:
    """Loads openSMILE's library (the `opensmile` extra), if installed, before
    TensorFlow: loaded after TensorFlow, its first extraction corrupts the heap
    ("malloc(): invalid size", an abort; opensmile 2.6 with TensorFlow 2.21),
    loaded before, both work. Loading the library alone imports nothing."""
    import ctypes
    import glob
    import importlib.util

    if "tensorflow" in sys.modules or (spec := importlib.util.find_spec("opensmile")) is None:
        return
    pattern = os.path.join(os.path.dirname(spec.origin), "core", "bin", "*", "libSMILEapi.*")
    for path in sorted(glob.glob(pattern))[:1]:
        ctypes.CDLL(path)


def tensorflow():
    """The `tensorflow` module, imported once, quietly (after `opensmile_first`)."""
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    opensmile_first()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    skip_keras = "keras" not in sys.modules  # a process using Keras keeps its import
    if skip_keras:
        sys.modules[KERAS_EAGER] = None  # `import` raises ImportError
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        if skip_keras and sys.modules.get(KERAS_EAGER, 0) is None:
            del sys.modules[KERAS_EAGER]
    return tensorflow
