"""How far apart are the numbers of the same runs on two machines, against
how far apart two seeds are?

    python tools/machine_gap.py docs/searches/<file>.jsonl.gz runs/dev/<search folder>

Reads searches' candidates (a `candidates.jsonl.gz`, or a search's folder:
its finished runs are read as the sweep reads them) and keeps each run's last
step. A run is its folder name (method, label space, task, draw, seed and the
config's hash): the same name on two machines is the same config, data and
seed, so their gap is the machine's alone (its compiler's vector width and
reduction order). Beside it, the gap between seeds 0 and 1 of the same (method,
task, draw) on one machine: what the tables' +- already reports. Prints a
markdown table per method: pairs, the machine gap (mean signed, mean |d|,
largest |d|) and the seed gap (mean |d|). Reading the files executes nothing.
"""

import argparse
import collections
from pathlib import Path

import numpy as np

from jaxser.evaluation import model_selection


def last_rows(sources: list[Path]) -> list:
    """The last step's row of every run in the candidates files / search folders."""
    rows = []
    for src in sources:
        cands = model_selection.load(src) if src.is_file() else model_selection.candidates(src)[0]
        rows += [c.row for c in cands if c.last]
    return rows


def gaps(rows: list) -> dict[str, dict]:
    """Per method: each run seen on two machines, its UAR on the second (by name)
    minus on the first, and |seed 1 - seed 0| of each (task, draw, machine)
    with both seeds."""
    by_run = collections.defaultdict(dict)  # run name -> {machine: row}
    for r in rows:
        by_run[r.run][r.machine] = r
    machines = sorted({r.machine for r in rows})
    out = {r.method: {"machine": [], "seed": []} for r in rows}
    for per in by_run.values():
        if len(per) == 2:
            a, b = (per[m] for m in machines if m in per)
            out[a.method]["machine"].append(b.uar - a.uar)
    by_seed = collections.defaultdict(dict)
    for r in {(r.run, r.machine): r for r in rows}.values():
        by_seed[(r.method, r.task, r.label_space, r.draw, r.machine)][r.seed] = r.uar
    for (method, *_), seeds in by_seed.items():
        if 0 in seeds and 1 in seeds:
            out[method]["seed"].append(abs(seeds[1] - seeds[0]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("sources", nargs="+", type=Path, help="candidates files or search folders")
    args = p.parse_args()
    rows = last_rows(args.sources)
    machines = sorted({r.machine for r in rows})
    if len(machines) != 2:
        raise SystemExit(f"need runs of exactly two machines, found {len(machines)}: {machines}")
    print(f"machine gap: UAR on {machines[1]!r} minus UAR on {machines[0]!r}\n")
    print("| method | runs on both | mean d | mean abs d | largest abs d | "
          "seed pairs | seed gap: mean abs d |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    every = {"machine": [], "seed": []}
    for method, g in sorted(gaps(rows).items()):
        every["machine"] += g["machine"]
        every["seed"] += g["seed"]
        print(_line(method, g))
    print(_line("all", every))


def _line(name: str, g: dict) -> str:
    d, s = np.array(g["machine"]), np.array(g["seed"])
    m = (
        f"{len(d)} | {d.mean():+.4f} | {np.abs(d).mean():.4f} | {np.abs(d).max():.4f}"
        if len(d)
        else "0 | - | - | -"
    )
    return f"| {name} | {m} | {len(s)} | " + (f"{s.mean():.4f} |" if len(s) else "- |")


if __name__ == "__main__":
    main()
