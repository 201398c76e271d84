"""Run a grid of (config, label space, task, seed) and print mean +- std UAR / WAR
and pred_balance per config, label space and task.

    python tools/grid.py --configs source_only dann mmd coral dsan \\
        --tasks synth_emodb:synth_casia synth_casia:synth_emodb --seeds 0 1 2 --out runs/grid
    python tools/grid.py --configs source_only dann emodna --label_spaces arousal valence \\
        --tasks synth_emodb:synth_casia synth_casia:synth_emodb --seeds 0 1 2 --out runs/binary

Each run is `python -m jaxser.train` in `<out>/<config>-<source>-<target>-seed<n>`
(`<out>/<config>-<label space>-<source>-<target>-seed<n>` with --label_spaces;
without it each config runs in its own default label space); finished runs
(results.json present) are not run again, so the grid resumes. Extra `--set
key=value` overrides apply to every run. Wall time per run is recorded in
`<out>/wall.json`; `--workers 2` runs two at a time (wall times then share the
cores). Model selection: the last step (no target labels). With the baseline
(default source_only) in the grid, a second table gives each config's tasks won
against it and a paired Wilcoxon signed-rank p-value over (task, seed) pairs.
"""

import argparse
import concurrent.futures
import itertools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from scipy import stats


def run_name(label: str, space: str, source: str, target: str, seed: int) -> str:
    return "-".join([label, *([space] if space else []), source, target, f"seed{seed}"])


def run_grid(variants, tasks, seeds, out: Path, quiet=True, spaces=("",), workers=1) -> dict:
    """Runs every (variant, label space, task, seed) not finished yet, `workers` at
    a time. A variant is (label, config name, [overrides]); a label space "" keeps
    the config's own."""
    out.mkdir(parents=True, exist_ok=True)
    wall_path = out / "wall.json"
    wall = json.loads(wall_path.read_text()) if wall_path.exists() else {}
    lock = threading.Lock()
    jobs = []
    for task in tasks:
        source, target = task.split(":")
        for (label, name, overrides), space, seed in itertools.product(variants, spaces, seeds):
            workdir = out / run_name(label, space, source, target, seed)
            if (workdir / "results.json").exists():
                continue
            space_override = [f"--config.data.label_space={space}"] if space else []
            cmd = [
                sys.executable,
                "-m",
                "jaxser.train",
                "--config",
                f"configs/{name}.py",
                "--workdir",
                str(workdir),
                f"--config.data.source={source}",
                f"--config.data.target={target}",
                f"--config.seed={seed}",
                *space_override,
                "--no_progress",
                *[f"--config.{o}" for o in overrides],
            ]
            jobs.append((workdir, cmd))

    def run(job):
        workdir, cmd = job
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=quiet, text=True)
        if r.returncode != 0:
            err = r.stderr[-3000:] if quiet else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err}")
        with lock:
            wall[workdir.name] = round(time.perf_counter() - t0, 1)
            wall_path.write_text(json.dumps(wall, indent=1))
        print(f"{workdir.name}: {wall[workdir.name]:.0f} s", file=sys.stderr, flush=True)

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, jobs))  # the first failure is raised here
    return wall


def _mean_std(x: np.ndarray) -> str:
    return f"{x.mean():.3f} +- {x.std(ddof=1) if len(x) > 1 else 0.0:.3f}"


def last_eval(workdir: Path) -> dict:
    """The last evaluation's log line of a run (metrics.jsonl)."""
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").open()]
    return [r for r in rows if r["kind"] == "eval"][-1]


def table(labels, tasks, seeds, out: Path, spaces=("",), monitor=()) -> str:
    """Mean +- std over seeds per (label space, task, config); `monitor`: keys of the
    last evaluation's log line to add (e.g. pseudo/accuracy), "-" where a run has none."""
    wall = json.loads((out / "wall.json").read_text()) if (out / "wall.json").exists() else {}
    lines = [
        "| run | label space | task | UAR mean +- std | WAR mean +- std "
        "| pred_balance mean +- std |"
        + "".join(f" {k} (last eval) |" for k in monitor)
        + " seeds | wall s/run |",
        "|---|---|---|---|---|---|" + "---|" * len(monitor) + "---|---|",
    ]
    for space, task, name in itertools.product(spaces, tasks, labels):
        source, target = task.split(":")
        runs = [out / run_name(name, space, source, target, s) for s in seeds]
        res = [
            json.loads((r / "results.json").read_text())
            for r in runs
            if (r / "results.json").exists()
        ]
        if not res:
            continue
        uar = np.array([r["uar"] for r in res])
        war = np.array([r["war"] for r in res])
        balance = np.array([r["pred_balance"] for r in res])
        # results of runs before label spaces existed are categorical
        space_of = {r.get("label_space", "categorical") for r in res}
        secs = [wall[r.name] for r in runs if r.name in wall]
        evals = [last_eval(r) for r in runs if (r / "results.json").exists()]
        extra = ""
        for key in monitor:
            values = np.array([e[key] for e in evals if key in e], float)
            extra += f" {_mean_std(values) if len(values) else '-'} |"
        lines.append(
            f"| {name} | {'/'.join(sorted(space_of))} | {source} -> {target} "
            f"| {_mean_std(uar)} | {_mean_std(war)} | {_mean_std(balance)} |{extra}"
            f" {len(res)} | {np.mean(secs) if secs else float('nan'):.0f} |"
        )
    return "\n".join(lines)


def _uars(out: Path, name: str, space: str, tasks, seeds) -> dict:
    """{(task, seed): UAR} of the finished runs."""
    found = {}
    for task, seed in itertools.product(tasks, seeds):
        source, target = task.split(":")
        r = out / run_name(name, space, source, target, seed) / "results.json"
        if r.exists():
            found[task, seed] = json.loads(r.read_text())["uar"]
    return found


def against(labels, baseline: str, tasks, seeds, out: Path, spaces=("",)) -> str:
    """Per config and label space: the tasks whose mean UAR beats the baseline's,
    the mean UAR over tasks of both, and a two-sided paired Wilcoxon signed-rank
    test over the (task, seed) pairs both have."""
    lines = [
        f"| run | label space | tasks won vs {baseline} | mean UAR over tasks "
        f"| {baseline} | mean diff | Wilcoxon p (pairs) |",
        "|---|---|---|---|---|---|---|",
    ]
    for space, name in itertools.product(spaces, labels):
        if name == baseline:
            continue
        mine = _uars(out, name, space, tasks, seeds)
        base = _uars(out, baseline, space, tasks, seeds)
        pairs = sorted(set(mine) & set(base))
        done = [t for t in tasks if any(p[0] == t for p in pairs)]
        if not done:
            continue
        # per task: (mean UAR of this config, of the baseline) over their shared seeds
        means = [[np.mean([u[p] for p in pairs if p[0] == t]) for u in (mine, base)] for t in done]
        won = sum(a > b for a, b in means)
        m, b = np.mean(means, axis=0)
        diff = np.array([mine[p] - base[p] for p in pairs])
        p = stats.wilcoxon(diff).pvalue if len(pairs) > 1 and np.any(diff) else float("nan")
        lines.append(
            f"| {name} | {space or 'own'} | {won}/{len(done)} | {m:.3f} | {b:.3f} "
            f"| {m - b:+.3f} | {p:.3g} ({len(pairs)}) |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--configs", nargs="+", default=["source_only", "dann", "mmd", "coral", "dsan"])
    p.add_argument(
        "--tasks", nargs="+", default=["synth_emodb:synth_casia", "synth_casia:synth_emodb"]
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument(
        "--label_spaces",
        nargs="+",
        default=[""],
        help="arousal, valence, categorical (default: each config's own)",
    )
    p.add_argument("--out", default="runs/grid")
    p.add_argument("--set", nargs="*", default=[], help="overrides, e.g. train.steps=100")
    p.add_argument("--table_only", action="store_true", help="print the table of finished runs")
    p.add_argument(
        "--monitor",
        nargs="*",
        default=[],
        help="last-evaluation log keys to tabulate, e.g. pseudo/accuracy pseudo/accepted_share",
    )
    p.add_argument("--workers", type=int, default=1, help="runs at a time")
    p.add_argument(
        "--baseline",
        default="source_only",
        help="config the others are compared with (tasks won, paired Wilcoxon)",
    )
    args = p.parse_args()
    out = Path(args.out)
    if not args.table_only:
        variants = [(c, c, args.set) for c in args.configs]
        run_grid(
            variants, args.tasks, args.seeds, out, spaces=args.label_spaces, workers=args.workers
        )
    print(table(args.configs, args.tasks, args.seeds, out, args.label_spaces, args.monitor))
    if args.baseline in args.configs:
        print()
        print(against(args.configs, args.baseline, args.tasks, args.seeds, out, args.label_spaces))


if __name__ == "__main__":
    main()
