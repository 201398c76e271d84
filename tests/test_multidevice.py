"""The train step on 8 fake CPU devices equals the 1-device step, for every method config.

XLA fixes the device count at start-up, so each count runs in its own process.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def run(devices: int, out: Path) -> dict:
    env = dict(
        os.environ,
        XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
        JAX_PLATFORMS="cpu",
    )
    subprocess.run(
        [sys.executable, str(HERE / "multidevice_step.py"), str(out)],
        env=env,
        check=True,
        cwd=HERE.parent,
    )
    return dict(np.load(out))


def test_eight_devices_equal_one(tmp_path):
    one, eight = run(1, tmp_path / "one.npz"), run(8, tmp_path / "eight.npz")
    assert int(one.pop("devices")) == 1 and int(eight.pop("devices")) == 8
    assert one.keys() == eight.keys() and len(one) > 5 * 10
    for key in one:
        # Same maths over the global batch; only the reduction order differs.
        np.testing.assert_allclose(eight[key], one[key], rtol=2e-4, atol=2e-5, err_msg=key)
