"""Train-step benchmark: compile time, throughput, memory, FLOPs, per method config.

    python tools/bench_step.py                       # every method config, this machine
    python tools/bench_step.py --configs source_only --torch   # + the PyTorch twin
    python tools/bench_step.py --pipeline            # + through the real tf.data pipeline
    python tools/bench_step.py --dtype bfloat16      # mixed precision
    python tools/bench_step.py --configs source_only --profile runs/prof   # where the time goes

In-memory batches (random arrays of the real shapes; no TensorFlow needed, so
it runs on a GPU box): compile time (lower + compile), steady-state step time
(median of --steps timed steps after --warmup, each ended by
block_until_ready), utterances/s (source + target), XLA's FLOP estimate per
step (cost_analysis) and the achieved FLOP/s, peak memory (device peak on an
accelerator, process peak RSS on CPU). --pipeline also times the same step fed
by the real pipeline, stepped in turn with the in-memory batch (so that both
see the same load), and reports the input-bound share (1 - in-memory step time
/ pipeline step time).
--torch times the PyTorch twin (tools/torch_twin.py) and JAX's source_only
step in turn, one step each, so that both see the same load on a shared
machine, and reports the ratio of their speeds.
--profile DIR records a JAX profiler trace of 5 steps per config under DIR
(open it in TensorBoard or Perfetto) and prints the op time per step by kind
of op (convolution, dot, or the fusion's name) and the XLA operations that
took the most time, each with its output shape and, for a convolution or a
dot, what it computes.
"""

import argparse
import collections
import gzip
import json
import platform
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import jax

from jaxser import config as config_lib
from jaxser import experiment, methods, models, parallel
from jaxser.data import batch as batch_lib

CONFIGS = list(methods.METHODS)  # every method has configs/<name>.py


def _flops(compiled) -> float:
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list | tuple) else cost
    return float(cost.get("flops", float("nan"))) if cost else float("nan")


def _peak_memory_mb() -> tuple[float, str]:
    stats = jax.devices()[0].memory_stats() or {}
    if "peak_bytes_in_use" in stats:
        return stats["peak_bytes_in_use"] / 2**20, "device peak"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process peak RSS"


def _time(fn, steps: int, warmup: int) -> float:
    return _interleaved({"fn": fn}, steps, warmup)["fn"]


def _interleaved(fns: dict, steps: int, warmup: int) -> dict[str, float]:
    """Median seconds per call of each function, the functions called in
    turn, so that on a shared machine they see the same load."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {k: [] for k in fns}
    for _ in range(steps):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


_INSTR = re.compile(r"^\s+(?:ROOT )?%([\w.-]+) = (\S+) ([\w-]+)\((.*?)\)(.*)$")
_SHAPE = re.compile(r"[a-z]+\d*\[[\d,]*\]")


def _op_table(hlo_text: str) -> dict[str, str]:
    """Instruction name -> its output shape, and for a convolution or a dot, or
    a fusion that wraps one, "shape = convolution(operand shapes)", read from
    the optimised HLO text (instruction names are unique in a module)."""
    computation, inner, shapes, calls = None, {}, {}, {}
    for line in hlo_text.splitlines():
        if line.startswith(("%", "ENTRY")):
            computation = line.removeprefix("ENTRY ").split(" ", 1)[0].lstrip("%")
        m = _INSTR.match(line)
        if not m:
            continue
        name, shape, opcode, operands, attrs = m.groups()
        shapes[name] = (_SHAPE.match(shape) or m).group(0)
        if called := re.search(r"calls=%([\w.-]+)", attrs):
            calls[name] = called.group(1)
        if opcode in ("convolution", "dot"):
            names = [o.strip().lstrip("%") for o in operands.split(",")]
            inner[computation] = inner[name] = (opcode, names)
    out = {}
    for name, shape in shapes.items():
        opcode, names = inner.get(name) or inner.get(calls.get(name), (None, []))
        args = ", ".join(shapes.get(n, "?") for n in names)
        out[name] = f"{shape} = {opcode}({args})" if opcode else shape
    return out


def _kind(op: str, what: str) -> str:
    """An op's kind for the per-kind totals: convolution or dot (fused or not),
    else its name without the ".N" suffix (e.g. "wrapped_iota", "ynn_fusion")."""
    for opcode in ("convolution", "dot"):
        if f"= {opcode}(" in what:
            return opcode
    return re.sub(r"\.\d+$", "", op)


def profile(compiled, run, out: Path, name: str, steps: int = 5, top: int = 15) -> dict:
    """Traces `steps` calls of `run` into out/<name>. Returns the `top` XLA
    operations by time per step and the time per step of each kind of op
    (on CPU the step's ops run as thunks, on a GPU as kernels)."""
    trace_dir = out / name
    with jax.profiler.trace(str(trace_dir)):
        for _ in range(steps):
            run()
    events = json.load(gzip.open(sorted(trace_dir.rglob("*.trace.json.gz"))[-1]))["traceEvents"]
    ops = _op_table(compiled.as_text())
    total = collections.Counter()
    for e in events:
        op = e.get("args", {}).get("hlo_op", e.get("name"))  # GPU kernels name their op
        if e.get("ph") == "X" and op in ops:
            total[op] += e["dur"] / 1000 / steps
    kinds = collections.Counter()
    for op, ms in total.items():
        kinds[_kind(op, ops[op])] += ms
    return {
        "top": [{"op": k, "ms": v, "what": ops[k]} for k, v in total.most_common(top)],
        "by_kind": dict(kinds.most_common()),
    }


def bench(
    name: str,
    overrides: list[str],
    steps: int,
    warmup: int,
    pipeline: bool,
    profile_dir: Path | None = None,
) -> dict:
    # compile time is measured: never read from the persistent compilation cache
    config = config_lib.load(f"configs/{name}.py", [*overrides, "train.compilation_cache=off"])
    experiment.check(config)
    names = ("angry", "fear", "happy", "neutral", "sad")  # synth_emodb <-> synth_casia
    classes, b = len(names), config.train.batch_size
    exp = experiment.build(config, names, 1000)  # the run's jitted step, sharded, donated
    t, f, mesh, state, step = exp.crop_frames, exp.features.dim, exp.mesh, exp.state, exp.step
    batch = parallel.shard_batch(batch_lib.random(b, t, f, classes), mesh)
    t0 = time.perf_counter()
    compiled = step.lower(state, batch).compile()
    compile_s = time.perf_counter() - t0
    box = {"state": state}

    def run(batch=batch):
        box["state"], logs = compiled(box["state"], batch)
        jax.block_until_ready(logs["loss"])

    step_s = _time(run, steps, warmup)
    flops = _flops(compiled)
    mem, mem_kind = _peak_memory_mb()
    r = {
        "config": name,
        "batch": f"{b}+{b}x{t}x{f}",
        "batch_shape": (b, t, f),  # per corpus: utterances, frames, mel bins
        "dtype": config.model.compute_dtype,
        "compile_s": compile_s,
        "step_ms": 1000 * step_s,
        "utt_per_s": 2 * b / step_s,
        "gflop_per_step": flops / 1e9,
        "gflop_per_s": flops / step_s / 1e9,
        "peak_mem_mb": mem,
        "mem_kind": mem_kind,
    }
    r["run"] = run  # for --torch's interleaved comparison; not written to --json
    if profile_dir:
        r["profile"] = profile(compiled, run, profile_dir, name)
    if pipeline:
        from jaxser.data import pipeline as pl

        data = experiment.load_data(config)
        it = pl.as_numpy(pl.train_dataset(data, b, t, config.data.balanced, 0))
        med = _interleaved(
            {"memory": run, "pipeline": lambda: run(parallel.shard_batch(next(it), mesh))},
            steps,
            warmup,
        )
        r |= {
            "pipeline_utt_per_s": 2 * b / med["pipeline"],
            "memory_utt_per_s_interleaved": 2 * b / med["memory"],
            "input_bound_share": 1 - med["memory"] / med["pipeline"],
        }
    return r


def torch_twin(b: int = 32, t: int = 300, f: int = 64):
    """The PyTorch twin's step on a fixed in-memory batch, and its description."""
    import torch
    from torch_twin import TwinCNN, make_step

    torch.manual_seed(0)
    model = TwinCNN()
    step = make_step(model)
    d = batch_lib.random(b, t, f, 5)
    xs, xt = torch.from_numpy(d["source"]["x"]), torch.from_numpy(d["target"]["x"])
    ys = torch.from_numpy(d["source"]["label"]).long()
    info = {
        "config": "torch_twin(source_only)",
        "batch": f"{b}+{b}x{t}x{f}",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
    }
    return lambda: step(xs, ys, xt).item(), info


def compare_torch(jax_row: dict, steps: int, warmup: int) -> dict:
    """JAX's source_only step against the PyTorch twin, the two stepped in
    turn (JAX, PyTorch, JAX, ...) so that both see the same machine load."""
    b, t, f = jax_row["batch_shape"]
    run_torch, info = torch_twin(b, t, f)
    med = _interleaved({"jax": jax_row["run"], "torch": run_torch}, steps, warmup)
    return info | {
        "step_ms": 1000 * med["torch"],
        "utt_per_s": 2 * b / med["torch"],
        "jax_step_ms_interleaved": 1000 * med["jax"],
        "jax_over_torch_speed": med["torch"] / med["jax"],
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--configs", nargs="+", default=CONFIGS)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--dtype", default="auto", choices=models.DTYPES)
    p.add_argument("--pipeline", action="store_true", help="also time the real pipeline")
    p.add_argument(
        "--torch",
        action="store_true",
        help="also time the PyTorch twin, stepped in turn with JAX's source_only step",
    )
    p.add_argument(
        "--set", nargs="*", default=[], help="config overrides, e.g. train.batch_size=64"
    )
    p.add_argument("--profile", type=Path, help="trace 5 steps per config here, print top ops")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    dev = jax.devices()[0]
    print(
        f"# {platform.node()} {dev.platform} {dev.device_kind} x{len(jax.devices())}, "
        f"jax {jax.__version__}, python {platform.python_version()}"
    )
    if args.torch and "source_only" not in args.configs:
        sys.exit("--torch compares with the source_only step: add source_only to --configs")
    overrides = [f"model.compute_dtype={args.dtype}", *args.set]
    rows = [
        bench(c, overrides, args.steps, args.warmup, args.pipeline, args.profile)
        for c in args.configs
    ]
    for r in rows:
        extra = (
            f"  pipeline {r['pipeline_utt_per_s']:.0f} utt/s (input-bound "
            f"{100 * r['input_bound_share']:.1f}%)"
            if "pipeline_utt_per_s" in r
            else ""
        )
        print(
            f"{r['config']:12s} {r['dtype']:8s} compile {r['compile_s']:5.1f} s  step "
            f"{r['step_ms']:7.1f} ms  {r['utt_per_s']:7.0f} utt/s  "
            f"{r['gflop_per_step']:6.1f} GFLOP/step  {r['gflop_per_s']:7.1f} GFLOP/s  "
            f"{r['mem_kind']} {r['peak_mem_mb']:.0f} MB{extra}"
        )
        if "profile" in r:
            by_kind, op_ms = r["profile"]["by_kind"], sum(r["profile"]["by_kind"].values())
            print(f"  op time {op_ms:.1f} ms/step; by kind (top 8):")
            for kind, ms in list(by_kind.items())[:8]:
                print(f"    {ms:7.1f} ms/step  {100 * ms / op_ms:5.1f}%  {kind}")
            print("  top ops:")
            for op in r["profile"]["top"]:
                print(f"    {op['ms']:7.1f} ms/step  {op['op']:32s} {op['what']}")
    if args.torch:
        jx = next(r for r in rows if r["config"] == "source_only")
        tw = compare_torch(jx, args.steps, args.warmup)
        rows.append(tw)
        print(
            f"{tw['config']} torch {tw['torch']} ({tw['threads']} threads), stepped in turn "
            f"with JAX source_only: torch {tw['step_ms']:.1f} ms, JAX "
            f"{tw['jax_step_ms_interleaved']:.1f} ms  JAX/PyTorch speed: "
            f"{tw['jax_over_torch_speed']:.2f}x"
        )
    if args.json:
        rows = [{k: v for k, v in r.items() if k != "run"} for r in rows]
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
