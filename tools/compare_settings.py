"""One method's runs under other settings against a reference setting, paired by
(task, seed, fold): what switching a method's own idea off (or on) at its frozen
setting changes, in target UAR and in what its runs logged.

    python tools/compare_settings.py didan runs/test/categorical runs/test/why/didan_no_ida \
        --logs loss/ida loss/ida_class pseudo/accuracy

The first folder holds the reference runs (a sweep's folder; `--draw`: which of
its search draws, 0 = the frozen setting), each further folder one variant
(e.g. `python -m jaxser.sweep ... --search 1 --set terms.ida.weight=0 --out
runs/test/why/didan_no_ida`). One markdown row per folder: its runs, mean target
UAR over the tasks they share with the reference, tasks won against it, the
two-sided paired Wilcoxon p over (task, seed, fold) pairs, the runs that
collapsed onto one class (|pred_balance| < 0.1), and for each `--logs` scalar
its mean over runs of the run's value: a training scalar averaged over the last
quarter of its logged steps (what the term settled at), an evaluation scalar at
the last evaluation. A variant's logs show what the idea did: a term logged with
weight 0 is computed but not trained on, so its value says how far the model
drifts from what the term asks for without it.
"""

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from jaxser import files
from jaxser.evaluation import report

COLLAPSED = 0.1  # |pred_balance| under this: predictions on (nearly) one class


def rows_of(folder: Path, method: str, draw: int) -> list[report.Row]:
    """`method`'s finished runs of search draw `draw` in `folder` (a run made
    without --search counts as draw 0), named after the folder."""
    found = report.collect(folder)
    for line in found.bad:
        print(f"left out: {line}")
    rows = [r for r in found.rows if r.method == method and max(r.draw, 0) == draw]
    return [dataclasses.replace(r, method=folder.name) for r in rows]


def logged(run: Path, key: str) -> float:
    """`key` in a run's metrics.jsonl: the mean over the last quarter of the
    training lines that hold it, else its value at the last evaluation; nan if
    never logged."""
    rows = [r for r in files.read_jsonl(run / "metrics.jsonl") if key in r]
    train = [r[key] for r in rows if r["kind"] == "train"]
    if train:
        return float(np.mean(train[-max(1, len(train) // 4) :]))
    evals = [r[key] for r in rows if r["kind"] == "eval"]
    return float(evals[-1]) if evals else float("nan")


def log_means(folder: Path, rows: list[report.Row], keys: list[str]) -> list[float]:
    """Each key's mean over the runs that logged it (nan: none did; a term whose
    weight is 0 is not logged)."""
    means = []
    for k in keys:
        values = [v for r in rows if not np.isnan(v := logged(folder / r.run, k))]
        means.append(float(np.mean(values)) if values else float("nan"))
    return means


def table(method: str, folders: list[Path], keys: list[str], draw: int = 0) -> str:
    reference, *variants = folders
    ref_rows = rows_of(reference, method, draw)
    if not ref_rows:
        raise SystemExit(f"{reference}: no finished {method} runs of draw {draw}")
    head = "| setting | runs | mean UAR | reference | won | p (pairs) | collapsed |"
    lines = [
        head + "".join(f" {k} |" for k in keys),
        "|" + "---|" * (7 + len(keys)),
    ]
    for folder in [reference, *variants]:
        rows = ref_rows if folder == reference else rows_of(folder, method, 0)
        logs = "".join(
            " - |" if np.isnan(v) else f" {v:.4g} |" for v in log_means(folder, rows, keys)
        )
        collapsed = sum(abs(r.pred_balance) < COLLAPSED for r in rows)
        if folder == reference:
            g = report.Group("", "", "", [folder.name], sorted({r.task for r in rows}), rows)
            mean = g.mean_over_tasks(folder.name)
            lines.append(
                f"| {folder} (draw {draw}) | {len(rows)} | {mean:.3f} | - | - | - | "
                f"{collapsed} |{logs}"
            )
            continue
        tasks = sorted({r.task for r in ref_rows})
        ref = [dataclasses.replace(r, method="reference") for r in ref_rows]
        g = report.Group("", "", "", ["reference", folder.name], tasks, [*rows, *ref])
        a = g.against(folder.name, "reference")
        if a is None:
            lines.append(f"| {folder} | {len(rows)} | no runs paired with the reference |")
            continue
        lines.append(
            f"| {folder} | {len(rows)} | {a['mean']:.3f} | {a['baseline_mean']:.3f} | "
            f"{a['won']}/{a['tasks']} | {a['p']:.3g} ({a['pairs']}) | {collapsed} |{logs}"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("method", help="the method whose runs are compared (e.g. didan)")
    p.add_argument("folders", nargs="+", type=Path, help="reference folder, then variants")
    p.add_argument("--logs", nargs="*", default=[], help="logged scalars to show")
    p.add_argument("--draw", type=int, default=0, help="the reference's search draw")
    args = p.parse_args(argv)
    missing = [str(f) for f in args.folders if not f.is_dir()]
    if missing:
        p.error(f"no such folder: {', '.join(missing)}")
    print(table(args.method, args.folders, args.logs, args.draw))


if __name__ == "__main__":
    main()
