"""The training batch pytree, and random batches of its shapes.

    {"source": {"x": f32[B,T,F], "mask": bool[B,T], "label": i32[B],
                "speaker": i32[B], "gender": i32[B], "index": i32[B]},
     "target": {"x": f32[B,T,F], "mask": bool[B,T], "index": i32[B]}}

`random` builds one in memory (no TensorFlow): for tests and for benchmarks
on machines without the data pipeline.
"""

import numpy as np


def random(b: int = 8, t: int = 100, f: int = 64, classes: int = 5, seed: int = 0) -> dict:
    """A batch of standard-normal features, all frames valid, labels cycling over classes."""
    r = np.random.default_rng(seed)

    def side():
        return {
            "x": r.normal(size=(b, t, f)).astype(np.float32),
            "mask": np.ones((b, t), bool),
            "index": np.arange(b, dtype=np.int32),
        }

    src = side() | {
        "label": (np.arange(b) % classes).astype(np.int32),
        "speaker": np.zeros(b, np.int32),
        "gender": np.zeros(b, np.int32),
    }
    return {"source": src, "target": side()}
