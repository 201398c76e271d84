"""TensorFlow imported without its C++ start-up lines.

TensorFlow's shared library writes, at import, absl's "All log messages before
absl::InitializeLog() is called are written to STDERR" and oneDNN's note on
round-off, whatever TF_CPP_MIN_LOG_LEVEL says. jaxser uses TensorFlow for
tf.data and TFDS only, so these lines are noise to a user: `tensorflow()`
imports it with file descriptor 2 pointed at /dev/null for the import alone
(Python errors raised by the import still reach the user, after it).
"""

import os
import sys


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
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow
