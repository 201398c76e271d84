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
collapsed onto one class (pred_balance under `report.COLLAPSED`, as the
tables count them), and for each `--logs` scalar its mean over the runs that
logged it: a training scalar averaged over the last quarter of its logged
steps (what the term settled at), an evaluation scalar at the last
evaluation. A term whose weight is 0 is not logged ("-"): a variant that
switches a term off shows what the other terms and the evaluation logged.
"""

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from jaxser import files
from jaxser.evaluation import report


def rows_of(folder: Path, method: str, draw: int) -> list[report.Row]:
    """`method`'s finished runs of search draw `draw` in `folder` (a run made
    without --search counts as draw 0), named after the folder."""
    found = report.collect(folder)
    for line in found.bad:
        print(f"left out: {line}")
    rows = [r for r in found.rows if r.method == method and max(r.draw, 0) == draw]
    return [dataclasses.replace(r, method=folder.name) for r in rows]


def logged(run: Path, keys: list[str]) -> list[float]:
    """Each of `keys` in a run's metrics.jsonl (read once): the mean over the
    last quarter of the training lines that hold it, else its value at the last
    evaluation; nan if never logged."""
    rows = files.read_jsonl(run / "metrics.jsonl")
    values = []
    for key in keys:
        train = [r[key] for r in rows if r["kind"] == "train" and key in r]
        evals = [r[key] for r in rows if r["kind"] == "eval" and key in r]
        if train:
            values.append(float(np.mean(train[-max(1, len(train) // 4) :])))
        else:
            values.append(float(evals[-1]) if evals else float("nan"))
    return values


def row_text(label: str, folder: Path, rows: list[report.Row], keys: list[str], middle: str) -> str:
    """A table line: `label`, the run count, `middle` (the UAR cells), the
    collapses and each key's mean over the runs that logged it ("-": none did)."""
    per_run = np.array([logged(folder / r.run, keys) for r in rows]).reshape(len(rows), len(keys))
    cells = []
    for column in per_run.T:
        seen = column[~np.isnan(column)]
        cells.append(f" {seen.mean():.4g} |" if len(seen) else " - |")
    collapsed = sum(r.pred_balance < report.COLLAPSED for r in rows)
    return f"| {label} | {len(rows)} | {middle} | {collapsed} |{''.join(cells)}"


def table(method: str, folders: list[Path], keys: list[str], draw: int = 0) -> str:
    reference, *variants = folders
    ref_rows = rows_of(reference, method, draw)
    if not ref_rows:
        raise SystemExit(f"{reference}: no finished {method} runs of draw {draw}")
    tasks = sorted({r.task for r in ref_rows})
    ref = [dataclasses.replace(r, method="reference") for r in ref_rows]
    own = report.Group("", "", "", ["reference"], tasks, ref).mean_over_tasks("reference")
    lines = [
        "| setting | runs | mean UAR | reference | won | p (pairs) | collapsed |"
        + "".join(f" {k} |" for k in keys),
        "|" + "---|" * (7 + len(keys)),
        row_text(f"{reference} (draw {draw})", reference, ref_rows, keys, f"{own:.3f} | - | - | -"),
    ]
    for folder in variants:
        rows = rows_of(folder, method, 0)
        g = report.Group("", "", "", ["reference", folder.name], tasks, [*rows, *ref])
        a = g.against(folder.name, "reference")
        if a is None:
            lines.append(f"| {folder} | {len(rows)} | no runs paired with the reference |")
            continue
        middle = (
            f"{a['mean']:.3f} | {a['baseline_mean']:.3f} | {a['won']}/{a['tasks']} | "
            f"{a['p']:.3g} ({a['pairs']})"
        )
        lines.append(row_text(str(folder), folder, rows, keys, middle))
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
