"""The training batch pytree, and random batches of its shapes.

    {"source": {"x": f32[B,T,F], "mask": bool[B,T], "label": i32[B],
                "speaker": i32[B], "gender": i32[B], "index": i32[B]},
     "target": {"x": f32[B,T,F], "mask": bool[B,T], "index": i32[B]}}

`random` builds one in memory (no TensorFlow): for tests and for benchmarks
on machines without the data pipeline; `in_memory` feeds such batches to the
training loop (`jaxser.training.loop.fit(..., feed=...)`) in place of the
tf.data stream.
"""

import itertools
from collections.abc import Callable, Iterator, Sequence

import numpy as np


def random(
    b: int = 8, t: int = 100, f: int = 64, classes: int = 5, seed: int = 0, signal: float = 0.0
) -> dict:
    """A batch of standard-normal features, all frames valid, labels cycling over
    classes. `signal` > 0: an easy task, each class's utterances (both halves)
    shifted by `signal` times a fixed +-1 pattern over the feature bins of its own."""
    r = np.random.default_rng(seed)
    patterns = np.random.default_rng(1234).choice([-1.0, 1.0], size=(classes, f))
    labels = np.arange(b) % classes

    def side():
        x = r.normal(size=(b, t, f)) + signal * patterns[labels][:, None, :]
        return {
            "x": x.astype(np.float32),
            "mask": np.ones((b, t), bool),
            "index": np.arange(b, dtype=np.int32),
        }

    src = side() | {
        "label": labels.astype(np.int32),
        "speaker": np.zeros(b, np.int32),
        "gender": np.zeros(b, np.int32),
    }
    return {"source": src, "target": side()}


def in_memory(batches: Sequence[dict]) -> Callable[..., Iterator[dict]]:
    """A feed for the training loop from batches held in memory: batch `i` of
    the stream is `batches[i % len(batches)]` (so a resumed run continues it)."""

    def feed(exp, start: int) -> Iterator[dict]:
        for i in itertools.count(start):
            yield batches[i % len(batches)]

    return feed
