"""Utterance-level predictions of a model over a whole split.

Evaluation covers each utterance with windows of the training crop length;
an utterance's outputs are its windows' outputs averaged, weighted by their
valid frames. Under several processes each crops its slice of every
evaluation batch; outputs are gathered on every host.
"""

import jax
import numpy as np
from jax.experimental import multihost_utils

from jaxser import parallel
from jaxser.data import pipeline


def predict_split(forward, variables, split, batch_size: int, crop_frames: int, mesh) -> dict:
    """Per utterance of `split`: softmax "probs", "logits", "features", and the
    split's "labels" (the caller decides who may see them)."""
    n = len(split)
    sums: dict[str, np.ndarray] = {}
    weight = np.zeros(n)
    ds = pipeline.eval_dataset(
        split, batch_size, crop_frames, jax.process_index(), jax.process_count()
    )
    for batch in pipeline.as_numpy(ds):
        w = batch["mask"].sum(1) * batch["valid"]
        x, mask = parallel.shard_batch((batch["x"], batch["mask"]), mesh)
        logits, f = forward(variables, x, mask)
        idx_w = parallel.shard_batch((batch["index"], w), mesh)
        logits, f, idx, w = multihost_utils.process_allgather((logits, f, *idx_w), tiled=True)
        outputs = {"probs": jax.nn.softmax(logits, -1), "logits": logits, "features": f}
        for key, value in outputs.items():
            sums.setdefault(key, np.zeros((n, value.shape[1])))
            np.add.at(sums[key], idx, w[:, None] * np.asarray(value))
        np.add.at(weight, idx, w)
    return {k: v / weight[:, None] for k, v in sums.items()} | {"labels": split.label}


def without_labels(pred: dict) -> dict:
    """What a method may see of its adaptation target: no labels."""
    return {k: v for k, v in pred.items() if k != "labels"}


class Predictions:
    """Predictions of one model state over the splits of a task, each computed
    once, on first use: `predictions("target_test")`, `("source")`, ..."""

    def __init__(self, forward, variables, data, batch_size: int, crop_frames: int, mesh):
        self.forward, self.variables, self.data = forward, variables, data
        self.batch_size, self.crop_frames, self.mesh = batch_size, crop_frames, mesh
        self.classes = tuple(data.classes)
        self._cache: dict[int, dict] = {}  # by the split's identity

    @classmethod
    def of(cls, exp, state) -> "Predictions":
        """Of `state` over the task of `exp` (a `jaxser.experiment.Experiment`)."""
        variables = {"params": state.params, "batch_stats": state.batch_stats}
        batch_size = exp.config.train.eval_batch_size
        return cls(exp.forward, variables, exp.data, batch_size, exp.crop_frames, exp.mesh)

    def __call__(self, split: str) -> dict:
        data = getattr(self.data, split)
        key = id(data)  # transductive: target_adapt *is* target_test, one pass serves both
        if key not in self._cache:
            self._cache[key] = predict_split(
                self.forward, self.variables, data, self.batch_size, self.crop_frames, self.mesh
            )
        return self._cache[key]
