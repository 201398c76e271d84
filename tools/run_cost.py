"""Where one run's wall time goes: imports, data, init, compiles, steps, evaluations, writing.

    python tools/run_cost.py --config configs/emodna.py
    python tools/run_cost.py --config configs/emodna.py --config.train.steps=1
    python tools/run_cost.py --config configs/emodna.py --workdir /tmp/rc --json cost.json

Trains the config as `python -m jaxser.train` does (`experiment.train`, in a
fresh temporary workdir unless --workdir names one) with timers around its
parts, and prints a table of seconds:

- imports: `import jaxser.experiment, jaxser.training.loop` (TensorFlow included);
- data: `experiment.load_data` (reading the prepared stores; preparing them
  too if they are missing: run once before measuring);
- init: `experiment.build` (model, optimizer and method state);
- steps: the rest of `loop.fit` (train steps, checkpoints, logs);
- evaluations: `loop.evaluate` (periodic and final);
- writing: `experiment.write_results` (figures, results.json), less its
  evaluations;
- compile: tracing, lowering and XLA compilations (JAX's
  `/jax/core/compile/*_duration` events), taken out of the phase they
  happened in and shown as a row of their own, with the count of XLA
  compilations; `cache hits`: executables read back from the persistent
  compilation cache instead;
- total: from this script's first line to the end of the run;
- below the table: the process's CPU seconds (user, system) and its page
  faults (minor: memory the kernel zero-filled on first touch).

The host allocator is configured as `python -m jaxser.train` does
(`jaxser/host_memory.py`); `--host_malloc system` leaves glibc's own settings,
to measure what that costs (the two in turn: `farm-bench`, or alternate runs).

Nothing here changes what a run computes; the timers are wrappers installed
before the run. Run it with nothing else on the machine.
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

# tracing to a jaxpr, lowering to MLIR, XLA's compilation (one per executable)
COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)
PHASES = ("imports", "data", "init", "compile", "steps", "evaluations", "writing", "other")


class Timers:
    """Exclusive wall time per phase: a wrapped call's time less its wrapped
    callees' and less the compilations that ran inside it."""

    def __init__(self):
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.stack: list[list] = []  # [phase, start, time taken by nested phases]
        self.compiles = 0
        self.cache_hits = 0

    def wrap(self, owner, name: str, phase: str) -> None:
        fn = getattr(owner, name)

        def timed(*args, **kwargs):
            self.stack.append([phase, time.perf_counter(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                phase_, start, nested = self.stack.pop()
                took = time.perf_counter() - start
                self.seconds[phase_] += took - nested
                if self.stack:
                    self.stack[-1][2] += took

        setattr(owner, name, timed)

    def on_duration(self, event: str, seconds: float, **_) -> None:
        if event not in COMPILE_EVENTS:
            return
        self.compiles += event == COMPILE_EVENTS[-1]
        self.seconds["compile"] += seconds
        if self.stack:
            self.stack[-1][2] += seconds

    def on_event(self, event: str, **_) -> None:
        if event == "/jax/compilation_cache/cache_hits":
            self.cache_hits += 1


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True)
    p.add_argument("--workdir", default="", help="default: a fresh temporary folder")
    p.add_argument("--json", default="", help="also write the figures to this file")
    p.add_argument(
        "--host_malloc",
        choices=("reuse", "system"),
        default="",
        help="the host allocator (default: $JAXSER_HOST_MALLOC, else reuse)",
    )
    args, overrides = p.parse_known_args()

    from jaxser import host_memory

    if args.host_malloc:
        os.environ[host_memory.ENV] = args.host_malloc
    malloc = host_memory.configure()

    timers = Timers()
    t = time.perf_counter()
    import jax

    from jaxser import config as config_lib
    from jaxser import experiment
    from jaxser.training import loop

    timers.seconds["imports"] = time.perf_counter() - t
    jax.monitoring.register_event_duration_secs_listener(timers.on_duration)
    jax.monitoring.register_event_listener(timers.on_event)
    timers.wrap(experiment, "load_data", "data")
    timers.wrap(experiment, "build", "init")
    timers.wrap(loop, "fit", "steps")
    timers.wrap(loop, "evaluate", "evaluations")
    timers.wrap(experiment, "write_results", "writing")

    config = config_lib.load(args.config, overrides)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="run_cost-"))
    t = time.perf_counter()
    results = experiment.train(config, workdir, progress=False)
    total = time.perf_counter() - T0
    timers.seconds["other"] = total - sum(timers.seconds.values())
    print(f"{args.config} {' '.join(overrides)}: UAR {results.get('uar', float('nan')):.4f}")
    print("| phase | s | share |\n|---|---|---|")
    for phase in PHASES:
        s = timers.seconds[phase]
        extra = ""
        if phase == "compile":
            extra = f" ({timers.compiles} compilations, {timers.cache_hits} cache hits)"
        print(f"| {phase}{extra} | {s:.1f} | {s / total:.0%} |")
    print(f"| **total** | **{total:.1f}** | |")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"CPU {usage.ru_utime:.1f} s user, {usage.ru_stime:.1f} s system; "
        f"{usage.ru_minflt} minor page faults; host malloc: {malloc}"
    )
    if args.json:
        figures = dict(timers.seconds, total=total, compilations=timers.compiles)
        figures |= {"cache_hits": timers.cache_hits, "uar": results.get("uar")}
        figures |= {"user_s": usage.ru_utime, "system_s": usage.ru_stime}
        figures |= {"minor_faults": usage.ru_minflt, "host_malloc": malloc}
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
