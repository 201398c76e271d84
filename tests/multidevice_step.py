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


def main(out: str) -> None:
    arrays = {"devices": np.array(len(jax.devices()))}
    for name in CONFIGS:
        exp = build(name, "/nonexistent")  # the step as runs jit it: sharded, state donated
        state = exp.state
        for i in range(2):
            state, logs = exp.step(state, parallel.shard_batch(fake_batch(seed=i), exp.mesh))
            arrays[f"{name}/loss{i}"] = np.asarray(logs["loss"])
        for path, leaf in jax.tree_util.tree_leaves_with_path(state.params):
            arrays[f"{name}/{jax.tree_util.keystr(path)}"] = np.asarray(leaf)
    np.savez(out, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
