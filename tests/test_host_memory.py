"""The host allocator's setting: what it reads, and that it keeps freed memory."""

import os
import platform
import subprocess
import sys
import textwrap

import pytest

from jaxser import host_memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# A child process: configure, then malloc, write and free a 64 MiB block 5
# times (as XLA's CPU runtime does a step's buffers); prints the minor page
# faults of blocks 2 to 5.
CHILD = textwrap.dedent(
    """
    import ctypes, resource
    from jaxser import host_memory
    print(host_memory.configure())
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    def block():
        p = libc.malloc(2**26)
        ctypes.memset(p, 1, 2**26)
        libc.free(p)
    block()  # the first one faults in any case
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        block()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def run_child(setting: str) -> tuple[str, int]:
    env = dict(os.environ, **{host_memory.ENV: setting})
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


def test_setting_reads_the_environment(monkeypatch):
    monkeypatch.delenv(host_memory.ENV, raising=False)
    assert host_memory.setting() == ("reuse" if GLIBC else "unavailable")
    monkeypatch.setenv(host_memory.ENV, " System ")
    assert host_memory.setting() == ("system" if GLIBC else "unavailable")
    monkeypatch.setenv(host_memory.ENV, "jemalloc")
    with pytest.raises(ValueError, match="known: reuse, system"):
        host_memory.setting()


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_reuse_keeps_freed_memory_for_the_next_allocation():
    pages = 4 * 2**26 // 4096  # 4 allocations of 64 MiB, in 4 KiB pages
    setting, faults = run_child("system")
    assert setting == "system" and faults > 0.9 * pages  # each one faulted in again
    setting, faults = run_child("reuse")
    assert setting == "reuse" and faults < 0.05 * pages


def test_applied_says_system_until_configure_runs():
    code = (
        "from jaxser import host_memory as h; a = h.applied(); c = h.configure(); "
        "print(a, c, h.applied())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, **{host_memory.ENV: "reuse"}),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["system", "reuse", "reuse"] if GLIBC else out[0] == "system"
