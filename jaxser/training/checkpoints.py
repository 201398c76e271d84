"""Orbax checkpoints of a `TrainState` in `<workdir>/checkpoints`.

A checkpoint that does not read back (a kill or a full disk cut a file short, a
file was deleted) is never fatal when an older kept one reads: `restore_latest`
uses the newest that does, with a one-line warning, and on resume moves the
damaged ones to `<workdir>/damaged_checkpoints/` so the run can save those
steps again. When none reads, `DamagedCheckpoint` says which and what to do.
"""

import contextlib
import gc
import shutil
import sys
import time
from pathlib import Path

import flax
import jax
import orbax.checkpoint as ocp

from jaxser import parallel
from jaxser.training.state import TrainState

DAMAGED = "damaged_checkpoints"


class DamagedCheckpoint(RuntimeError):
    """No checkpoint of a run folder reads back; the message names it and the fix."""


def manager(workdir: Path, keep: int | None = None) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=keep is not None)
    return ocp.CheckpointManager((Path(workdir) / "checkpoints").resolve(), options=options)


def restore(mngr: ocp.CheckpointManager, state: TrainState, step: int) -> TrainState:
    """The state saved at `step`, read into the structure of `state`."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state.as_dict())
    return TrainState(**mngr.restore(step, args=ocp.args.StandardRestore(abstract)))


def _why(e: Exception) -> str:
    first = (str(e).strip().splitlines() or [""])[0].split(" See full TensorStore")[0][:200]
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


@contextlib.contextmanager
def _unraisable_quiet():
    """While a damaged checkpoint fails to read, orbax's other pending reads fail
    too, in coroutines nobody awaits: Python would print each one's traceback
    (thousands of lines) through `sys.unraisablehook`. They say nothing the
    one-line warning does not."""
    old = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        gc.collect()
        sys.unraisablehook = old


def restore_latest(
    workdir: Path, state: TrainState, keep: int | None = None, move_damaged: bool = False
) -> tuple[ocp.CheckpointManager, TrainState | None, int]:
    """(the manager, the state of the newest checkpoint that reads back, its step);
    (manager, None, 0) when the folder holds no checkpoint. A damaged newer
    checkpoint is skipped with a one-line warning (`move_damaged`: moved to
    `<workdir>/damaged_checkpoints/`, for a run that resumes and saves again);
    DamagedCheckpoint when every one is damaged."""
    workdir = Path(workdir)
    mngr = manager(workdir, keep)
    steps = sorted(mngr.all_steps(), reverse=True)
    damaged = []
    for step in steps:
        try:
            with _unraisable_quiet():
                restored = restore(mngr, state, step)
        except Exception as e:  # any failure to read it: damaged
            damaged.append(step)
            print(
                f"warning: checkpoint {mngr.directory / str(step)} does not read back "
                f"({_why(e)}); "
                + ("trying the previous one" if step != steps[-1] else "no older one is kept"),
                file=sys.stderr,
            )
            continue
        if damaged and move_damaged:
            mngr = _move_aside(workdir, mngr, damaged, keep)
        return mngr, restored, step
    if not steps:
        return mngr, None, 0
    raise DamagedCheckpoint(
        f"no checkpoint in {mngr.directory} reads back (steps {sorted(steps)}); delete "
        f"{mngr.directory} to train this run from the start"
    )


def _move_aside(workdir: Path, mngr, steps: list[int], keep) -> ocp.CheckpointManager:
    mngr.close()
    if parallel.is_lead():
        aside = workdir / DAMAGED
        aside.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for step in steps:
            shutil.move(str(mngr.directory / str(step)), aside / f"{step}-{stamp}")
            print(f"moved the damaged checkpoint of step {step} to {aside}", file=sys.stderr)
    return manager(workdir, keep)


def start_from(state: TrainState, workdir: Path, strict: bool = False) -> TrainState:
    """`state` with the parameters and BatchNorm statistics of the last checkpoint in
    `workdir` (a finished stage), wherever the parameter paths and shapes match;
    `strict`: every one must match (the same model), else ValueError."""
    mngr = manager(workdir)
    step = mngr.latest_step()
    if step is None:
        raise DamagedCheckpoint(f"{Path(workdir) / 'checkpoints'} holds no checkpoint")
    try:
        saved = mngr.restore(step, args=ocp.args.StandardRestore())
    except Exception as e:  # any failure to read it: damaged
        raise DamagedCheckpoint(
            f"the checkpoint {mngr.directory / str(step)} does not read back ({_why(e)}); "
            f"delete {workdir} to train it again"
        ) from e

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
