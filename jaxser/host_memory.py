"""The host allocator of a training process: keep freed memory for reuse.

On a CPU, every train step allocates its buffers (activations kept for the
backward pass, hundreds of MiB for the default CNN) and frees them at the end
of the step. glibc's malloc serves blocks that large with `mmap`, or from
per-thread arenas of at most 64 MiB that it trims, and gives them back to the
kernel when freed: the next step asks again and the kernel zero-fills each
4 KiB page on its first touch. A run then spends much of its time in page
faults rather than in XLA's kernels (docs/benchmarks.md, "Host memory and imports").

`configure` sets glibc's malloc, for this process, to one arena that neither
uses `mmap` nor trims the top of its heap, so a step's buffers come back from
the last step's freed memory. What a run computes does not change; its peak
resident memory is kept rather than handed back between steps.

`$JAXSER_HOST_MALLOC`: `reuse` (the default) or `system` (glibc's own
settings). Elsewhere than Linux with glibc (macOS, musl) nothing is changed.
`python -m jaxser.train` configures it first thing in `main`, before TensorFlow
or XLA start their threads.
"""

import ctypes
import os
import platform
import sys

ENV = "JAXSER_HOST_MALLOC"
SETTINGS = ("reuse", "system")

# mallopt(3) parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
# mallopt takes a C int: the largest trim threshold it can be given (2 GiB)
NEVER_TRIM = 2**31 - 1

# what `configure` did in this process (malloc's settings are the process's
# own, and glibc has no call that reads them back); None: not called
_applied: str | None = None


def setting() -> str:
    """What `configure` does in this process: "reuse", "system", or
    "unavailable" (not Linux with glibc). An unknown `$JAXSER_HOST_MALLOC`
    raises, listing the known settings."""
    value = os.environ.get(ENV, "reuse").strip().lower() or "reuse"
    if value not in SETTINGS:
        raise ValueError(f"${ENV}={value!r}; known: {', '.join(SETTINGS)}")
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return "unavailable"
    return value


def configure() -> str:
    """Set this process's malloc as `setting()` says, and return the setting.
    Call it before the process starts its worker threads (TensorFlow's, XLA's):
    an arena a thread already made stays."""
    global _applied
    _applied = chosen = setting()
    if chosen != "reuse":
        return chosen
    libc = ctypes.CDLL(None)
    for param, value in ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, NEVER_TRIM)):
        if libc.mallopt(param, value) != 1:  # mallopt returns 1 on success
            _applied = "system"
            return _applied
    return chosen


def applied() -> str:
    """What this process's malloc runs with: `configure`'s result, or "system"
    where nothing called it (a notebook, a script calling experiment.train)."""
    return _applied or "system"


def cores() -> int:
    """How many CPU cores this process may run on (its affinity, where the OS
    has one: `sweep --jobs` pins each run to its own)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
