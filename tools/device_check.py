"""What jaxser does on an accelerator: devices, step speed, the loop's efficiency,
the fixed cost of a run, and whether float32 numbers match the CPU's.

    python tools/device_check.py                       # on the GPU/TPU machine
    JAX_PLATFORMS=cpu python tools/device_check.py --loop_steps 50 --quick   # here

Made for a machine with JAX (CUDA or TPU), flax, optax and orbax installed but
no TensorFlow, librosa or package registry: everything runs on batches held
in memory (`jaxser.data.batch`), nothing reads a corpus. Besides those it
needs ml_collections and tqdm (pure Python: bring their wheels along). It prints, in order:

1. `jax.devices()` and the versions;
2. the golden check: the first two float32 steps of tests/test_train.py's
   tiny dann on `batch.random()` against the values recorded on CPU
   (tests/tiny.py, rtol 1e-4; an accelerator's convolutions may differ in
   the last digits, so the largest relative difference is printed too);
3. `tools/bench_step.py`'s figures for source_only and emodna in float32 and
   bfloat16 (compile s, step ms, utt/s, GFLOP/s, peak memory);
4. the training loop itself (`loop.fit`, fed from memory in place of the
   tf.data stream, logging every `train.log_every` steps as a run does, under
   a transfer guard that fails on any read-back between its actions) for
   `--loop_steps` steps of each config in the platform's default dtype: its
   steps/s against the in-memory step of (3) (the loop's efficiency), and the
   run's fixed cost (the build, the first step's compilation, the loop's
   start: the wall time of build + fit less the steps at the in-memory rate);
5. the host's own work per step of that loop, each step waited for so the
   device is idle while it is timed: getting the next batch onto the devices
   (`loop.device_batches` over the in-memory feed) and dispatching the jitted
   step (the call returns before the step has run). When their sum is near
   the in-memory step time or above it, the loop is bound by the host.

Every figure also goes to `--json`. About 3 minutes on an H200 with the
defaults (most of it compilation); the CPU run above takes about 5.
"""

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]  # bench_step; tiny (test configs)

import bench_step  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402
from tiny import GOLDEN_DANN_STEPS, tiny_config  # noqa: E402

from jaxser import config as config_lib  # noqa: E402
from jaxser import experiment  # noqa: E402
from jaxser.data import batch as batch_lib  # noqa: E402
from jaxser.training import loop, runtime, writers  # noqa: E402

CLASSES = ("angry", "fear", "happy", "neutral", "sad")  # synth_emodb <-> synth_casia


def golden(workdir: Path) -> dict:
    """The tiny dann's first two float32 steps against the CPU's values."""
    exp = experiment.build(tiny_config("dann", workdir), CLASSES, 100)
    state, got = exp.state, []
    for _ in GOLDEN_DANN_STEPS:
        state, logs = exp.step(state, batch_lib.random())
        got.append({k: float(v) for k, v in jax.device_get(logs).items()})
    worst = max(
        abs(got[i][k] - v) / abs(v)
        for i, step in enumerate(GOLDEN_DANN_STEPS)
        for k, v in step.items()
    )
    return {"max_rel_diff": worst, "ok": worst <= 1e-4, "values": got}


def _in_memory(name: str, steps: int):
    """`configs/<name>.py` built for a loop of `steps` steps fed from memory (4
    random batches), stopping one short of its end (no final evaluation: it
    reads corpora) and saving nor evaluating before it: (experiment, feed)."""
    config = config_lib.load(f"configs/{name}.py", ["train.compilation_cache=off"])
    with config.unlocked():
        config.train.steps = steps + 1
        config.train.eval_every = config.train.checkpoint_every = 10 * steps
    exp = experiment.build(config, CLASSES, 1000)
    b, t, f = config.train.batch_size, exp.crop_frames, exp.features.dim
    feed = batch_lib.in_memory([batch_lib.random(b, t, f, len(CLASSES), seed=i) for i in range(4)])
    return exp, feed


def loop_rate(name: str, steps: int, step_ms: float, workdir: Path) -> dict:
    """`steps` steps of `loop.fit` on in-memory batches: steps/s, the loop's
    efficiency against the in-memory step, and the run's fixed cost."""
    t0 = time.perf_counter()
    exp, feed = _in_memory(name, steps)
    # on an accelerator the guard makes any read-back between the loop's actions an error
    guard = "disallow_explicit"
    loop.fit(exp, workdir / name, max_steps=steps, progress=False, feed=feed, transfer_guard=guard)
    jax.block_until_ready(exp.state)
    wall = time.perf_counter() - t0
    rows = writers.read(workdir / name, "train")
    steady = [r["steps_per_s"] for r in rows[1:]]  # the first interval holds the compilation
    rate = float(np.median(steady)) if steady else float("nan")
    return {
        "config": name,
        "dtype": runtime.describe(exp.config)["compute_dtype"],
        "steps": steps,
        "loop_steps_per_s": rate,
        "memory_steps_per_s": 1000 / step_ms,
        "efficiency": rate * step_ms / 1000,
        "wall_s": wall,
        "fixed_cost_s": wall - steps * step_ms / 1000,
    }


def host_per_step(name: str, steps: int = 30) -> dict:
    """The host's work for one step of `loop.fit`, timed with the device idle:
    the next batch onto the devices, and the jitted step's dispatch (medians)."""
    exp, feed = _in_memory(name, steps)
    stream = loop.device_batches(feed(exp, 0), exp.mesh)
    state = exp.state
    put, dispatch = [], []
    for i in range(steps + 1):  # the first step compiles: not timed
        t0 = time.perf_counter()
        batch = next(stream)
        t1 = time.perf_counter()
        state, logs = exp.step(state, batch)
        t2 = time.perf_counter()
        jax.block_until_ready((state, logs))
        if i:
            put.append(t1 - t0)
            dispatch.append(t2 - t1)
    return {
        "config": name,
        "steps": steps,
        "batch_put_ms": 1000 * float(np.median(put)),
        "dispatch_ms": 1000 * float(np.median(dispatch)),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", nargs="+", default=["source_only", "emodna"])
    p.add_argument("--loop_steps", type=int, default=1000)
    p.add_argument("--quick", action="store_true", help="5 timed steps per benchmark, not 20")
    p.add_argument("--json", default="", help="also write every figure here")
    args = p.parse_args()
    t0 = time.perf_counter()
    out = {"devices": [str(d) for d in jax.devices()], "python": platform.python_version()}
    print(f"jax.devices(): {jax.devices()}")
    print(f"jax {jax.__version__}, python {platform.python_version()}, {platform.node()}")
    work = Path(tempfile.mkdtemp(prefix="device_check-"))

    out["golden"] = g = golden(work)
    verdict = "matches" if g["ok"] else "DIFFERS from"
    print(f"float32 first steps {verdict} the CPU's golden values "
          f"(largest relative difference {g['max_rel_diff']:.2e}; rtol 1e-4)")  # fmt: skip

    timed, warmup = (5, 2) if args.quick else (20, 3)
    out["bench"] = []
    for dtype in ("float32", "bfloat16"):
        for name in args.configs:
            r = bench_step.bench(name, [f"model.compute_dtype={dtype}"], timed, warmup, False)
            r = {k: v for k, v in r.items() if k != "run"}
            out["bench"].append(r)
            print(
                f"bench_step {name:12s} {dtype:8s} compile {r['compile_s']:5.1f} s  step "
                f"{r['step_ms']:8.2f} ms  {r['utt_per_s']:8.0f} utt/s  "
                f"{r['gflop_per_s']:8.1f} GFLOP/s  {r['mem_kind']} {r['peak_mem_mb']:.0f} MB"
            )
    auto = runtime.describe(config_lib.load("configs/source_only.py"))["compute_dtype"]
    step_ms = {r["config"]: r["step_ms"] for r in out["bench"] if r["dtype"] == auto}
    out["loop"] = []
    for name in args.configs:
        r = loop_rate(name, args.loop_steps, step_ms[name], work)
        out["loop"].append(r)
        print(
            f"loop.fit   {name:12s} {r['dtype']:8s} {r['steps']} steps: "
            f"{r['loop_steps_per_s']:7.1f} steps/s in the loop, {r['memory_steps_per_s']:7.1f} "
            f"in memory: efficiency {r['efficiency']:.1%}; fixed cost {r['fixed_cost_s']:.1f} s "
            f"of {r['wall_s']:.1f} s"
        )
    out["host"] = []
    for name in args.configs:
        r = host_per_step(name)
        out["host"].append(r)
        host_ms = r["batch_put_ms"] + r["dispatch_ms"]
        print(
            f"host/step  {name:12s} batch onto the devices {r['batch_put_ms']:6.2f} ms, "
            f"step dispatch {r['dispatch_ms']:6.2f} ms: {host_ms:6.2f} ms against the "
            f"step's {step_ms[name]:.2f} ms"
        )
    out["wall_s"] = time.perf_counter() - t0
    print(f"device check done in {out['wall_s']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
