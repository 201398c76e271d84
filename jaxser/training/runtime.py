"""What a run ran on: the machine, platform, devices, compute dtype, library versions.

`describe` is written to metrics.jsonl at every (re)start of a run (a row of
kind "runtime") and to results.json (`runtime`). A run resumed on another
platform or compute dtype than its last start would silently change what it
computes (`model.compute_dtype=auto` is bfloat16 on a GPU or TPU, float32 on a
CPU): `check_resume` refuses it, naming both, unless the caller allows it
(`python -m jaxser.train --allow_device_change`).

`machine` names the hardware a table's numbers come from: the same command
gives other numbers on a CPU with AVX-512 than on one with AVX2 only, and on
another generation of the same CPU, so the tables (jaxser/evaluation/report.py)
say which machines their runs ran on. Runs recorded before the generation was
part of the name carry the name without it.
"""

import os
import platform
from pathlib import Path

import jax
import jax.numpy as jnp
import jaxlib

from jaxser import host_memory, models
from jaxser.training import writers

# what may not change when a run resumes (the rest is recorded only)
SAME_ON_RESUME = ("platform", "compute_dtype")


class DeviceChanged(RuntimeError):
    """A run was resumed on another platform or compute dtype than it started on."""


# a CPU's generation: XLA compiles for the host CPU, so two CPUs with the same
# model name and vector width can give one run other numbers (two virtual
# machines' "AMD EPYC, 2 CPUs, AVX-512", the same code and one core: target UAR
# 0.5655 and 0.5734, docs/results.md, part 7)
CPU_GENERATION = (("cpu family", "family"), ("model", "model"),
                  ("cpu implementer", "implementer"), ("cpu part", "part"))  # fmt: skip
# the widest vector extension a CPU has (its /proc/cpuinfo flag), widest first
VECTOR_EXTENSIONS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sve", "SVE"),
                     ("asimd", "NEON"), ("sse4_2", "SSE4.2"))  # fmt: skip


def cpu(cpuinfo: str | None = None) -> str:
    """The host CPU, e.g. "AMD EPYC, 2 CPUs, AVX-512, family 26 model 2": its model
    name, logical CPU count, widest vector extension and generation (x86 family
    and model, ARM implementer and part), from `cpuinfo` (the text of
    /proc/cpuinfo; read here when None; elsewhere than Linux: the platform
    module's names)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    model = fields.get("model name") or platform.processor() or platform.machine() or "CPU"
    flags = set((fields.get("flags") or fields.get("features") or "").split())
    vector = next((name for flag, name in VECTOR_EXTENSIONS if flag in flags), "")
    count = os.cpu_count() or 1
    generation = " ".join(
        f"{name} {fields[key]}" for key, name in CPU_GENERATION if fields.get(key)
    )
    parts = (model, f"{count} CPU{'s' * (count > 1)}", vector, generation)
    return ", ".join(x for x in parts if x)


def machine() -> str:
    """What a run's numbers depend on beyond its config: on a CPU the host CPU
    (`cpu`), on an accelerator the device count and kind ("8 x TPU v5 lite")."""
    devices = jax.devices()
    if jax.default_backend() == "cpu":
        return cpu()
    return f"{len(devices)} x {devices[0].device_kind}"


def describe(config) -> dict:
    """The machine, the cores this process may use, its host allocator, the
    platform, device kind and count, processes, the resolved compute dtype and the
    jax/jaxlib versions this process runs `config` with."""
    devices = jax.devices()
    return {
        "machine": machine(),
        "cores": host_memory.cores(),
        "host_malloc": host_memory.applied(),  # its run's wall time depends on it
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
