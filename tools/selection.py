"""Do the label-free scores rank runs as target UAR does? Over finished run
folders, per task (source -> target, label space): Spearman's rank correlation
of each score of the `label_free` evaluator (information maximisation `im`,
soft neighbourhood density `snd`, and `-entropy`, so that higher is better for
all three) with target UAR, over every evaluation of every run of the task,
then the mean over tasks; and what picking by each score would have given.

    python tools/selection.py runs/dev/*/*-seed*

Run it on development tasks only: a score is used for model selection only if
it ranks runs there (docs/design.md, "Protocol"). For a search (`python -m
jaxser.sweep --search N`), search.md gives the same per (method, task, seed),
for every rule, source-validation ones included
(jaxser/evaluation/model_selection.py).
"""

import argparse
import collections
import json
from pathlib import Path

import numpy as np
from scipy import stats

from jaxser import files

SCORES = {"im": 1.0, "snd": 1.0, "entropy": -1.0}  # sign: higher is better


def evaluations(workdir: Path) -> list[dict]:
    """The evaluation rows of a run's metrics.jsonl that carry the scores."""
    rows = files.read_jsonl(workdir / "metrics.jsonl")  # a torn last line left out
    return [r for r in rows if r["kind"] == "eval" and "label_free/im" in r]


def task_of(workdir: Path) -> str:
    d = json.loads((workdir / "config.json").read_text())["data"]
    return f"{d['source']}->{d['target']} {d['label_space']}"


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("runs", nargs="+", type=Path, help="run folders (results.json present)")
    args = p.parse_args()
    by_task = collections.defaultdict(list)  # task -> [(run, eval row)]
    for run in args.runs:
        if (run / "results.json").exists():
            by_task[task_of(run)] += [(run, r) for r in evaluations(run)]
    if not by_task:
        raise SystemExit("no finished run with label-free scores among the folders given")
    head = " | ".join(f"rho {'-' if s < 0 else ''}{k}" for k, s in SCORES.items())
    picks = " | ".join(f"UAR picked by {k}" for k in SCORES)
    print(f"| task | evaluations (runs) | {head} | mean UAR | best UAR | {picks} |")
    print("|---|---|" + "---|" * (2 * len(SCORES) + 2))
    rhos = collections.defaultdict(list)
    for task, rows in sorted(by_task.items()):
        uar = np.array([r["uar"] for _, r in rows])
        cells, picked = [], []
        for key, sign in SCORES.items():
            score = sign * np.array([r[f"label_free/{key}"] for _, r in rows])
            rho = stats.spearmanr(score, uar).statistic if len(rows) > 2 else float("nan")
            rhos[key].append(rho)
            cells.append(f"{rho:+.2f}")
            picked.append(f"{uar[np.argmax(score)]:.3f}")
        runs = len({run for run, _ in rows})
        print(
            f"| {task} | {len(rows)} ({runs}) | {' | '.join(cells)} | {uar.mean():.3f} "
            f"| {uar.max():.3f} | {' | '.join(picked)} |"
        )
    mean = " | ".join(f"{np.nanmean(rhos[k]):+.2f}" for k in SCORES)
    print(f"| mean over {len(by_task)} tasks | | {mean} | | |" + " |" * len(SCORES))


if __name__ == "__main__":
    main()
