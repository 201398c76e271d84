"""One process of a multi-host run on this machine (CPU devices, gloo collectives).

    JAX_COORDINATOR_ADDRESS=127.0.0.1:PORT JAX_NUM_PROCESSES=2 JAX_PROCESS_ID=0 \
        python tests/multihost_run.py DATA_DIR OUT

Every process reads only its own slice of each batch from the real pipeline,
builds the global batch with make_array_from_process_local_data, and runs 3
train steps of the dann config; process 0 saves the losses and parameters.
"""

import sys
from pathlib import Path

import jax

jax.config.update("jax_cpu_collectives_implementation", "gloo")


def main(data_dir: str, out: str) -> None:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent))
    from tiny import tiny_config

    from jaxser import experiment, parallel
    from jaxser.data import pipeline

    # The launch path users take: JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and
    # JAX_PROCESS_ID in the environment (set by the test for 2 processes).
    parallel.initialize_distributed()
    pid, n = jax.process_index(), jax.process_count()

    exp = experiment.setup(tiny_config("dann", data_dir))
    config, data, state = exp.config, exp.data, exp.state
    b, t = config.train.batch_size, exp.crop_frames
    local = pipeline.as_numpy(
        pipeline.train_dataset(data, b, t, seed=config.seed, process_index=pid, process_count=n)
    )
    arrays = {"processes": np.array(jax.process_count()), "devices": np.array(len(jax.devices()))}
    for i in range(3):
        batch = next(local)
        assert batch["source"]["x"].shape[0] == b // n  # this process's shard only
        state, logs = exp.step(state, parallel.shard_batch(batch, exp.mesh))
        arrays[f"loss{i}"] = np.asarray(logs["loss"].addressable_data(0))
    for path, leaf in jax.tree_util.tree_leaves_with_path(state.params):
        arrays[jax.tree_util.keystr(path)] = np.asarray(leaf.addressable_data(0))
    if pid == 0:
        np.savez(out, **arrays)
    if n > 1:
        jax.distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
