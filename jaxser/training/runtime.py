"""What a run ran on: platform, devices, compute dtype, library versions.

`describe` is written to metrics.jsonl at every (re)start of a run (a row of
kind "runtime") and to results.json (`runtime`). A run resumed on another
platform or compute dtype than its last start would silently change what it
computes (`model.compute_dtype=auto` is bfloat16 on a GPU or TPU, float32 on a
CPU): `check_resume` refuses it, naming both, unless the caller allows it
(`python -m jaxser.train --allow_device_change`).
"""

from pathlib import Path

import jax
import jax.numpy as jnp
import jaxlib

from jaxser import models
from jaxser.training import writers

# what may not change when a run resumes (the rest is recorded only)
SAME_ON_RESUME = ("platform", "compute_dtype")


class DeviceChanged(RuntimeError):
    """A run was resumed on another platform or compute dtype than it started on."""


def describe(config) -> dict:
    """The platform, device kind and count, processes, the resolved compute dtype
    and the jax/jaxlib versions this process runs `config` with."""
    devices = jax.devices()
    return {
        "platform": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "devices": len(devices),
        "processes": jax.process_count(),
        "compute_dtype": jnp.dtype(models.compute_dtype(config.model.compute_dtype)).name,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
    }


def last_start(workdir: Path) -> dict | None:
    """The runtime recorded at the last (re)start of the run in `workdir` (None:
    a run saved before runs recorded it)."""
    rows = writers.read(workdir, "runtime")
    return rows[-1] if rows else None


def check_resume(workdir: Path, here: dict) -> None:
    """DeviceChanged when the run in `workdir` last ran on another platform or
    compute dtype than `here`."""
    before = last_start(workdir)
    if before is None:
        return
    differ = [k for k in SAME_ON_RESUME if before.get(k) != here[k]]
    if differ:
        was = ", ".join(f"{k} {before.get(k)}" for k in differ)
        now = ", ".join(f"{k} {here[k]}" for k in differ)
        raise DeviceChanged(
            f"{workdir} was trained on {was} and would resume on {now}: its numbers would "
            "change mid-run. Resume it where it started, or pass --allow_device_change"
        )
