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


def tensorflow():
    """The `tensorflow` module, imported once, quietly."""
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
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
