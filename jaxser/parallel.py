"""Devices, mesh and shardings: data parallel over every device of every host.

The train step is `jax.jit` over global arrays: the batch is sharded along the
mesh axis "data", the state replicated (docs/design.md, parallelism).
"""

import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxser.config import ConfigError


def initialize_distributed() -> None:
    """Starts JAX's multi-host runtime when the environment names a coordinator.

    Set JAX_COORDINATOR_ADDRESS (host:port) and, unless a scheduler JAX
    auto-detects (SLURM, Open MPI, Cloud TPU) provides them, JAX_NUM_PROCESSES and
    JAX_PROCESS_ID (jaxser passes these two on; JAX itself does not read them).
    """
    if not os.environ.get("JAX_COORDINATOR_ADDRESS") or jax.distributed.is_initialized():
        return
    n, i = os.environ.get("JAX_NUM_PROCESSES"), os.environ.get("JAX_PROCESS_ID")
    jax.distributed.initialize(
        num_processes=int(n) if n else None, process_id=int(i) if i else None
    )


def is_lead() -> bool:
    """Whether this process writes a run's files (config.json, logs, results,
    figures): process 0 only, so that the processes of a multi-host run do not
    write over each other in a shared run folder. Checkpoints are written by
    every process together (orbax)."""
    return jax.process_index() == 0


def make_mesh() -> Mesh:
    return Mesh(np.asarray(jax.devices()), ("data",))


def data_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P("data"))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def shard_batch(batch, mesh: Mesh):
    """This process's slice of a batch (numpy pytree) -> global arrays sharded on "data"."""
    sharding = data_sharding(mesh)
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), batch)


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if batch_size % n:
        raise ConfigError(
            f"config.train.batch_size={batch_size} is not divisible by the {n} devices"
        )
