"""Two processes on this machine (jax.distributed, gloo) train like one process."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(n: int, data_dir: Path, out: Path) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    port = _free_port()

    def process_env(i):
        if n == 1:
            return env
        return env | {
            "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
            "JAX_NUM_PROCESSES": str(n),
            "JAX_PROCESS_ID": str(i),
        }

    script = str(HERE / "multihost_run.py")
    procs = [
        subprocess.Popen(
            [sys.executable, script, str(data_dir), str(out)],
            env=process_env(i),
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(n)
    ]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    for p, log in zip(procs, logs, strict=True):
        assert p.returncode == 0, log[-3000:]
    return dict(np.load(out))


def test_two_processes_equal_one(small_data_dir, tmp_path):
    one = run(1, small_data_dir, tmp_path / "one.npz")
    two = run(2, small_data_dir, tmp_path / "two.npz")
    assert (int(one.pop("processes")), int(one.pop("devices"))) == (1, 1)
    assert (int(two.pop("processes")), int(two.pop("devices"))) == (2, 2)
    assert one.keys() == two.keys()
    for key in one:
        np.testing.assert_allclose(two[key], one[key], rtol=2e-4, atol=2e-5, err_msg=key)
