"""Runs 2 sharded train steps of every method config and saves losses and parameters.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python tests/multidevice_step.py OUT

Run by test_multidevice.py with 1 and with 8 CPU devices; the results must agree.
"""

import sys
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from test_train import CONFIGS, build, fake_batch  # noqa: E402

from jaxser import parallel  # noqa: E402
from jaxser.methods.base import BATCH_HALVES  # noqa: E402


def target() -> dict:
    """Predictions over the 100 target utterances of test_train.build's methods."""
    r = np.random.default_rng(0)
    logits = r.normal(size=(100, 5)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return {
        "features": r.normal(size=(100, 16)).astype(np.float32),
        "probs": probs,
        "logits": logits,
    }


def main(out: str) -> None:
    arrays = {"devices": np.array(len(jax.devices()))}
    for name in CONFIGS:
        exp = build(name, "/nonexistent")  # the step as runs jit it: sharded, state donated
        state = exp.state
        if exp.method.fill_state is not None:  # banks: filled from a fixed prediction pass
            state = state.replace(method_state=exp.method.fill_state(state.method_state, target()))
        halves = BATCH_HALVES[exp.method.halves]
        for i in range(2):
            batch = {h: v for h, v in fake_batch(seed=i).items() if h in halves}
            state, logs = exp.step(state, parallel.shard_batch(batch, exp.mesh))
            arrays[f"{name}/loss{i}"] = np.asarray(logs["loss"])
        for tree in ("params", "method_state"):
            for path, leaf in jax.tree_util.tree_leaves_with_path(getattr(state, tree)):
                arrays[f"{name}/{tree}{jax.tree_util.keystr(path)}"] = np.asarray(leaf)
    np.savez(out, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
