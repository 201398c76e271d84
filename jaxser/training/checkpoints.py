"""Orbax checkpoints of a `TrainState` in `<workdir>/checkpoints`."""

from pathlib import Path

import flax
import jax
import orbax.checkpoint as ocp

from jaxser.training.state import TrainState


def manager(workdir: Path, keep: int | None = None) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=keep is not None)
    return ocp.CheckpointManager((Path(workdir) / "checkpoints").resolve(), options=options)


def restore(mngr: ocp.CheckpointManager, state: TrainState, step: int) -> TrainState:
    """The state saved at `step`, read into the structure of `state`."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state.as_dict())
    return TrainState(**mngr.restore(step, args=ocp.args.StandardRestore(abstract)))


def start_from(state: TrainState, workdir: Path, strict: bool = False) -> TrainState:
    """`state` with the parameters and BatchNorm statistics of the last checkpoint in
    `workdir` (a finished stage), wherever the parameter paths and shapes match;
    `strict`: every one must match (the same model), else ValueError."""
    mngr = manager(workdir)
    saved = mngr.restore(mngr.latest_step(), args=ocp.args.StandardRestore())

    def overlay(current, previous):
        flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(current))
        prev = flax.traverse_util.flatten_dict(previous)
        if strict and (
            set(prev) != set(flat) or any(prev[k].shape != v.shape for k, v in flat.items())
        ):
            raise ValueError(f"the checkpoint in {workdir} is not of this model")
        merged = {
            k: (prev[k] if k in prev and prev[k].shape == v.shape else v) for k, v in flat.items()
        }
        return flax.traverse_util.unflatten_dict(merged)

    return state.replace(
        params=overlay(state.params, saved["params"]),
        batch_stats=overlay(state.batch_stats, saved["batch_stats"]),
    )
