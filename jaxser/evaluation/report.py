"""Tables of finished runs: method x task mean +- std, tasks won and a paired
Wilcoxon test against a baseline, as Markdown, CSV, LaTeX and a heatmap.

A run is a folder holding `results.json` (and, when a sweep made it,
`sweep.json`: its method label, config, overrides and wall time). Runs are
grouped by (label space, protocol, model selection): each group gets its own
tables, with those three stated above them. Means are over seeds, std is the
sample std (ddof 1; 0 for one seed). A leave-one-speaker-out run (protocol
"loso") is a fold of the task "<corpus> (loso)": that cell's mean +- std is
over its folds (and seeds), and pairs are (task, seed, fold). "Tasks won" counts the tasks where a
method's mean UAR over the seeds both have beats the baseline's; the p-value is
scipy's two-sided Wilcoxon signed-rank test over the (task, seed) pairs both
have (nan with fewer than two pairs or no difference). A run with
`pred_balance` under `COLLAPSED` predicts (almost) one class for the whole
target: the tables count such runs per cell.

A source-free run (protocol "source_free") adds a row for its source model
before adaptation (`before_adaptation` of results.json: the source model on
the run's target), once per (task, seed): the source-free methods share it,
and it is their group's baseline.

Runs with out-of-distribution results (`results.json["ood"]`, from
`data.ood_classes`) add an OOD table: per method, task and held-out emotions,
each score's AUROC, FPR95, AUPR-in and AUPR-out, mean +- sample std over the
runs (folds and seeds); `ood.csv` holds one line per run and score.
"""

import csv
import dataclasses
import io
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from jaxser import files, run_folder
from jaxser.data import tasks

BEFORE = "before_adaptation"  # the method name of a source model's row in source-free tables
# how a table names its model selection (jaxser/evaluation/model_selection.py)
SELECTIONS = {
    "last": "the last step (no target labels)",
    "oracle": "oracle, the best target UAR of the search: reads target labels, an upper "
    "bound, not a result",
}
COLLAPSED = 0.1  # pred_balance under this: (almost) one class for every target utterance
CSV_COLUMNS = (
    "method",
    "task",
    "label_space",
    "protocol",
    "selection",
    "seed",
    "fold",
    "uar",
    "war",
    "macro_f1",
    "pred_balance",
    "steps",
    "wall_s",
    "run",
    "machine",
)


@dataclasses.dataclass(frozen=True)
class Row:
    """One finished run."""

    method: str
    task: str  # "source -> target"
    label_space: str
    protocol: str
    selection: str
    seed: int
    uar: float
    war: float
    macro_f1: float
    pred_balance: float
    steps: int
    wall_s: float  # nan when unknown
    run: str  # folder name
    fold: int = -1  # loso: the fold tested (its runs share the task "<corpus> (loso)")
    # results.json["ood"] without the per-utterance scores; None without OOD classes
    ood: dict | None = dataclasses.field(default=None, compare=False)
    config_hash: str = ""  # the run's identity ("" for runs saved before it was recorded)
    draw: int = -1  # a search's draw (jaxser/search.py); -1: not a search run
    setting: str = dataclasses.field(default="", compare=False)  # the draw's overrides
    # what it ran on (jaxser/training/runtime.py's `machine`); "" for runs saved before it was
    machine: str = dataclasses.field(default="", compare=False)

    @property
    def cell_key(self) -> tuple:
        """What one run of a table cell is: two runs sharing it are one run twice."""
        return (
            self.method, self.task, self.label_space, self.protocol, self.selection,
            self.seed, self.fold, self.draw,
        )  # fmt: skip


def task_name(source: str, target: str, single: bool | str = False) -> str:
    """A table's task: "<source> -> <target>" ("a + b + c -> d" for several source
    corpora), or "<corpus> (loso)" for the folds of a single-corpus protocol
    (`single`: True for loso, or the protocol's name)."""
    if single:
        return f"{source} ({'loso' if single is True else single})"
    return f"{source.replace('+', ' + ')} -> {target}"


def same_value(a: str, b: str) -> bool:
    """Two override texts of one key: equal as numbers ("0" and "0.0") or as text."""
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


FROZEN = "frozen: "  # how sweep.json names draw 0's setting when its config froze one


def ran_setting(setting: str, overrides: list[str]) -> str:
    """A draw's setting ("key=value, ...", sweep.json's) as it ran: a key that a
    later override (the sweep's `--set`, last in the run's overrides) set to
    another value shows the value it ran with and the one drawn, "key=0 (drawn 0.3)"."""
    if setting in ("", "defaults"):
        return setting
    if setting.startswith(FROZEN):  # draw 0 of a config that froze a setting
        return FROZEN + ran_setting(setting.removeprefix(FROZEN), overrides)
    last = dict(o.split("=", 1) for o in overrides if "=" in o)  # the last one wins
    parts = []
    for part in setting.split(", "):
        key, drawn = part.split("=", 1)
        ran = last.get(key, drawn)
        parts.append(part if same_value(ran, drawn) else f"{key}={ran} (drawn {drawn})")
    return ", ".join(parts)


def drawn_values(setting: str) -> dict[str, str]:
    """The drawn values of a setting text (`ran_setting`'s, the inverse): a key a
    later override set reads "key=0 (drawn 1.0)", and the drawn one is kept;
    {} for "defaults" and for "" (no search)."""
    setting = setting.removeprefix(FROZEN)
    if setting in ("", "defaults"):
        return {}
    out = {}
    for part in setting.split(", "):
        key, _, value = part.partition("=")
        ran, sep, drawn = value.partition(" (drawn ")
        out[key] = drawn.removesuffix(")") if sep else ran
    return out


class BadRun(ValueError):
    """A run folder whose results cannot be tabled (damaged, foreign or mismatched)."""


def read_run(run: Path) -> list[Row]:
    """The rows of a finished run folder (none without results.json): the run's,
    and for a source-free run its source model's before adaptation. BadRun when
    its results.json is damaged, not jaxser's, or not of the config in the folder
    (its `config_hash` differs from config.json's)."""
    if not (run / run_folder.RESULTS).is_file():
        return []
    try:
        r = run_folder.read_results(run)
        sweep = run / run_folder.SWEEP
        meta = files.read_json(sweep) if sweep.is_file() else {}
        saved = run_folder.saved_hash(run) if (run / run_folder.CONFIG).is_file() else None
        rows = _rows(run, r, meta)
    except (files.DamagedFile, KeyError, TypeError, ValueError, AttributeError) as e:
        what = f"missing {e}" if isinstance(e, KeyError) else str(e)
        raise BadRun(f"{run}: cannot table its results ({what})") from None
    if r.get("config_hash") and saved is not None and saved != r["config_hash"]:
        raise BadRun(f"{run}: results.json is not of the config in {run_folder.CONFIG}")
    return rows


def _rows(run: Path, r: dict, meta: dict) -> list[Row]:
    protocol = r.get("protocol", "")
    loso = protocol if protocol in tasks.SINGLE_CORPUS else ""
    row = Row(
        method=meta.get("method", r["method"]),
        task=task_name(r["source"], r["target"], loso),
        label_space=r.get("label_space", "categorical"),
        protocol=r.get("protocol", "transductive"),
        selection=r.get("selection", "last"),
        seed=int(r["seed"]),
        uar=float(r["uar"]),
        war=float(r["war"]),
        macro_f1=float(r["macro_f1"]),
        pred_balance=float(r["pred_balance"]),
        steps=int(r["steps"]),
        wall_s=float(meta.get("wall_s", float("nan"))),
        run=run.name,
        fold=int(r.get("fold", 0)) if loso else -1,
        ood=r.get("ood"),
        config_hash=str(r.get("config_hash", "")),
        draw=int(meta.get("draw", -1)),
        setting=ran_setting(str(meta.get("setting", "")), meta.get("overrides", [])),
        machine=str((r.get("runtime") or {}).get("machine", "")),
    )
    if row.protocol != "source_free" or BEFORE not in r:
        return [row]
    b = r[BEFORE]
    before = dataclasses.replace(
        row,
        method=BEFORE,
        **{k: float(b[k]) for k in ("uar", "war", "macro_f1", "pred_balance")},
        steps=0,
        wall_s=float("nan"),
        run=Path(b["from"]).name,
        ood=None,  # the OOD results are the adapted model's
    )
    return [row, before]


@dataclasses.dataclass
class Collected:
    rows: list[Row]
    bad: list[str]  # one line per run folder left out, with the reason
    other: int  # folders under `out` that are not among the runs asked for


def collect(out: Path, runs: Iterable[str] | None = None) -> Collected:
    """Rows of the finished run folders directly under `out` (`runs`: only the
    folders of these names; None: every folder), sorted by folder name; a source
    model's row once per (task, label space, seed). A folder whose results
    cannot be tabled is left out and named in `bad`, never fatal."""
    rows, seen, bad = [], set(), []
    folders = sorted(d for d in Path(out).iterdir() if d.is_dir())
    wanted = None if runs is None else set(runs)
    other = 0 if wanted is None else sum(d.name not in wanted for d in folders)
    for d in folders:
        if wanted is not None and d.name not in wanted:
            continue
        try:
            found = read_run(d)
        except BadRun as e:
            bad.append(str(e))
            continue
        for r in found:
            key = (r.method, r.task, r.label_space, r.protocol, r.selection, r.seed)
            if r.method == BEFORE:  # one source model, whatever draw adapted it
                r = dataclasses.replace(r, draw=-1)
            if r.method == BEFORE and key in seen:
                continue
            seen.add(key)
            rows.append(r)
    rows, clashes = one_run_per_cell(rows)
    return Collected(rows, bad + clashes, other)


def one_run_per_cell(rows: list[Row]) -> tuple[list[Row], list[str]]:
    """`rows` with at most one run per (method, task, label space, protocol,
    selection, seed, fold), and a line per clash. One config twice (a copied
    folder: the same `config_hash`) keeps its first folder; runs of different
    configs under one key (another `--set`, an edited config file) are all left
    out: averaging them as if they were seeds would be wrong."""
    cells: dict[tuple, list[Row]] = {}
    for r in rows:
        if r.method != BEFORE:
            cells.setdefault(r.cell_key, []).append(r)
    drop, notes = set(), []
    for key, runs in cells.items():
        if len(runs) < 2:
            continue
        names = ", ".join(r.run for r in runs)
        hashes = {r.config_hash for r in runs}
        if len(hashes) == 1 and "" not in hashes:
            drop |= {r.run for r in runs[1:]}
            notes.append(f"{names}: one run (one config) twice; tabled {runs[0].run} only")
        else:
            drop |= {r.run for r in runs}
            notes.append(
                f"{names}: {key[0]} on {key[1]}, seed {key[5]}, in runs of different "
                "configs; none tabled (a sweep's --methods/--tasks/--set tables its own)"
            )
    return [r for r in rows if r.method == BEFORE or r.run not in drop], notes


OOD_METRICS = ("auroc", "fpr95", "aupr_in", "aupr_out")


def ood_rows(rows: list[Row]) -> list[dict]:
    """One dict per (run with OOD results, score): method, task, ood_classes,
    seed, fold, score and its metrics, in the order of `rows`."""
    out = []
    for row in rows:
        for score, m in (row.ood or {}).items():
            if isinstance(m, dict) and set(OOD_METRICS) <= set(m):
                out.append(
                    dict(
                        method=row.method,
                        task=row.task,
                        ood_classes=",".join(row.ood["ood_classes"]),
                        seed=row.seed,
                        fold=row.fold,
                        score=score,
                        **{k: float(m[k]) for k in OOD_METRICS},
                        run=row.run,
                    )
                )
    return out


def ood_markdown(rows: list[dict]) -> str:
    """Per (task, held-out emotions): method x score, each metric mean +- std over runs."""
    parts = []
    for task, held in _ordered([(r["task"], r["ood_classes"]) for r in rows]):
        sel = [r for r in rows if (r["task"], r["ood_classes"]) == (task, held)]
        lines = [
            f"### OOD: {task}, held out: {held}\n",
            "In-distribution is the positive class; higher AUROC and AUPR and lower "
            "FPR95 are better. Mean +- sample std over runs (folds and seeds).\n",
            "| method | score | AUROC | FPR95 | AUPR-in | AUPR-out | runs |",
            "|---|---|---|---|---|---|---|",
        ]
        for method in _ordered([r["method"] for r in sel]):
            for score in _ordered([r["score"] for r in sel if r["method"] == method]):
                cell = [r for r in sel if (r["method"], r["score"]) == (method, score)]
                stats_ = [mean_std([r[k] for r in cell]) for k in OOD_METRICS]
                lines.append(
                    f"| {method} | {score} | "
                    + " | ".join(f"{m:.3f} +- {s:.3f}" for m, s in stats_)
                    + f" | {len(cell)} |"
                )
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _ordered(values: Iterable[str], first: Iterable[str] = ()) -> list[str]:
    """Unique values: those of `first` in its order, then the rest in order of appearance."""
    seen = dict.fromkeys(v for v in first if v in set(values))
    seen.update(dict.fromkeys(values))
    return list(seen)


# Each seed method against the baselines its own paper compares it with
# (docs/design.md, "Methods"): a table of its own wherever both are in a group.
PAPER_BASELINES = {
    "emodna": ("source_only", "dann"),
    "didan": ("source_only", "mmd"),
    "lidan": ("source_only", "mmd"),
    "ecan": ("shot", "nrc", "aad"),
    "msac": ("msac_ce", "dann"),
}


def mean_std(x) -> tuple[float, float]:
    x = np.asarray(x, float)
    return float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0


def wilcoxon_p(diff) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (scipy)."""
    diff = np.asarray(diff, float)
    if len(diff) < 2 or not np.any(diff):
        return float("nan")
    from scipy import stats  # seconds to import: only when a table is made

    return float(stats.wilcoxon(diff).pvalue)


@dataclasses.dataclass
class Group:
    """The runs of one (label space, protocol, selection), as method x task cells."""

    label_space: str
    protocol: str
    selection: str
    methods: list[str]
    tasks: list[str]
    rows: list[Row]

    def baseline(self, default: str) -> str:
        """What the group's methods are compared with: the source model before
        adaptation in a source-free group, else `default`."""
        return BEFORE if self.protocol == "source_free" and BEFORE in self.methods else default

    def cell(self, method: str, task: str) -> list[Row]:
        return [r for r in self.rows if r.method == method and r.task == task]

    def cell_mean(self, method: str, task: str, key: str = "uar") -> float:
        rows = self.cell(method, task)
        return float(np.mean([getattr(r, key) for r in rows])) if rows else float("nan")

    def mean_over_tasks(self, method: str, key: str = "uar") -> float:
        means = [self.cell_mean(method, t, key) for t in self.tasks if self.cell(method, t)]
        return float(np.mean(means)) if means else float("nan")

    def best(self, task: str, key: str = "uar") -> str | None:
        means = {m: self.cell_mean(m, task, key) for m in self.methods if self.cell(m, task)}
        return max(means, key=means.get) if means else None

    def against(self, method: str, baseline: str) -> dict | None:
        """Tasks won, mean UARs over the shared tasks, and the paired Wilcoxon p."""
        mine = {(r.task, r.seed, r.fold): r.uar for r in self.rows if r.method == method}
        base = {(r.task, r.seed, r.fold): r.uar for r in self.rows if r.method == baseline}
        pairs = sorted(set(mine) & set(base))
        if not pairs:
            return None
        tasks = _ordered([p[0] for p in pairs], self.tasks)
        per_task = [
            (
                np.mean([mine[p] for p in pairs if p[0] == t]),
                np.mean([base[p] for p in pairs if p[0] == t]),
            )
            for t in tasks
        ]
        diff = [mine[p] - base[p] for p in pairs]
        return {
            "won": sum(a > b for a, b in per_task),
            "tasks": len(tasks),
            "mean": float(np.mean([a for a, _ in per_task])),
            "baseline_mean": float(np.mean([b for _, b in per_task])),
            "p": wilcoxon_p(diff),
            "pairs": len(pairs),
        }


def groups(rows: list[Row], methods: Iterable[str] = (), tasks: Iterable[str] = ()) -> list[Group]:
    """Rows split by (label space, protocol, selection); methods and tasks in the
    given order first (a source-free group's source model before all), then in
    order of appearance."""
    out = []
    for key in _ordered([(r.label_space, r.protocol, r.selection) for r in rows]):
        mine = [r for r in rows if (r.label_space, r.protocol, r.selection) == key]
        out.append(
            Group(
                *key,
                _ordered([r.method for r in mine], [BEFORE, *methods]),
                _ordered([r.task for r in mine], tasks),
                mine,
            )
        )
    return out


def _cell_text(g: Group, method: str, task: str, key: str, bold: bool, tex: bool) -> str:
    rows = g.cell(method, task)
    if not rows:
        return "-"
    m, s = mean_std([getattr(r, key) for r in rows])
    pm = "$\\pm$" if tex else "+-"
    text = f"{m:.3f} {pm} {s:.3f}"
    if bold:
        text = f"\\textbf{{{text}}}" if tex else f"**{text}**"
    collapsed = sum(r.pred_balance < COLLAPSED for r in rows)
    if collapsed:
        text += f" ({collapsed}/{len(rows)} collapsed)" if not tex else f"$^{{c{collapsed}}}$"
    return text


def machines(rows: Iterable[Row]) -> str:
    """Which machines `rows` ran on, as a sentence for a table's heading: one
    machine named; several each with its methods and runs, and the warning that
    methods compare within one machine's runs only (the same command gives other
    numbers on another CPU)."""
    runs: dict[str, dict[str, set]] = {}
    for r in rows:
        if r.method != BEFORE:
            runs.setdefault(r.machine or "not recorded", {}).setdefault(r.method, set()).add(r.run)
    if len(runs) <= 1:
        return f"Machine: {next(iter(runs))}." if runs else ""
    each = "; ".join(
        f"{name}: {', '.join(by)} ({sum(map(len, by.values()))} runs)"
        for name, by in sorted(runs.items())
    )
    return (
        f"**Runs from {len(runs)} machines** ({each}): the same command gives other numbers "
        "on another machine, so compare methods within one machine's runs."
    )


def _heading(g: Group, baseline: str) -> str:
    against = (
        f" Against {baseline}: tasks won and a two-sided paired Wilcoxon signed-rank "
        f"p-value over (task, seed) pairs."
        if baseline in g.methods
        else ""
    )  # a group without its baseline has no such table
    return (
        f"Label space: {g.label_space}. Protocol: {g.protocol}. Model selection: "
        f"{SELECTIONS.get(g.selection, g.selection + ' (no target labels)')}. "
        f"Mean +- sample std over seeds; bold: the best mean per task; "
        f"(k/n collapsed): runs with pred_balance < {COLLAPSED}.{against} "
        f"{machines(g.rows)}"
    )


def comparison_cells(a: dict) -> str:
    """`Group.against`'s result as Markdown cells: tasks won, mean UAR, the
    baseline's, their difference, and the Wilcoxon p with its number of pairs."""
    return (
        f"{a['won']}/{a['tasks']} | {a['mean']:.3f} | {a['baseline_mean']:.3f} "
        f"| {a['mean'] - a['baseline_mean']:+.3f} | {a['p']:.3g} ({a['pairs']})"
    )


def paper_comparisons(g: Group) -> str:
    """Each seed method of the group against its own paper's baselines
    (PAPER_BASELINES) that are in the group; "" if none is."""
    lines = [
        "| method | against its paper's baseline | tasks won | mean UAR | baseline | diff "
        "| Wilcoxon p (pairs) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in g.methods:
        for base in PAPER_BASELINES.get(m, ()):
            if base in g.methods and (a := g.against(m, base)):
                lines.append(f"| {m} | {base} | {comparison_cells(a)} |")
    return "\n".join(lines) + "\n" if len(lines) > 2 else ""


def markdown(groups_: list[Group], baseline: str = "source_only") -> str:
    parts = []
    for g in groups_:
        base = g.baseline(baseline)
        parts.append(f"### {g.label_space}, {g.protocol}\n\n{_heading(g, base)}\n")
        for key, title in (("uar", "UAR"), ("war", "WAR"), ("pred_balance", "pred_balance")):
            head = f"| {title} | " + " | ".join(g.tasks) + " | mean over tasks | seeds |"
            lines = [head, "|---" * (len(g.tasks) + 3) + "|"]
            for m in g.methods:
                cells = [_cell_text(g, m, t, key, g.best(t, key) == m, tex=False) for t in g.tasks]
                seeds = sorted({r.seed for r in g.rows if r.method == m})
                lines.append(
                    f"| {m} | "
                    + " | ".join(cells)
                    + f" | {g.mean_over_tasks(m, key):.3f} | {','.join(map(str, seeds))} |"
                )
            parts.append("\n".join(lines) + "\n")
        if base in g.methods:
            lines = [
                f"| method | tasks won vs {base} | mean UAR | {base} | diff | Wilcoxon p (pairs) |",
                "|---|---|---|---|---|---|",
            ]
            for m in g.methods:
                a = g.against(m, base) if m != base else None
                if a:
                    lines.append(f"| {m} | {comparison_cells(a)} |")
            parts.append("\n".join(lines) + "\n")
        if papers := paper_comparisons(g):
            parts.append(papers)
        walls = [r.wall_s for r in g.rows if np.isfinite(r.wall_s)]
        if walls:
            parts.append(
                f"Wall time per run: mean {np.mean(walls):.0f} s "
                f"(min {min(walls):.0f}, max {max(walls):.0f}), {len(walls)} runs.\n"
            )
    return "\n".join(parts)


def latex(groups_: list[Group], baseline: str = "source_only") -> str:
    parts = []
    for g in groups_:
        base = g.baseline(baseline)
        cols = "l" + "c" * (len(g.tasks) + 1) + ("cc" if base in g.methods else "")
        esc = lambda s: s.replace("_", "\\_").replace("->", "$\\to$")  # noqa: E731
        head = ["Method", *map(esc, g.tasks), "Mean"]
        if base in g.methods:
            head += [f"Won vs {esc(base)}", "Wilcoxon $p$"]
        lines = [
            f"% {_heading(g, base)}",
            f"\\begin{{tabular}}{{{cols}}}",
            "\\toprule",
            " & ".join(head) + " \\\\",
            "\\midrule",
        ]
        for m in g.methods:
            cells = [_cell_text(g, m, t, "uar", g.best(t) == m, tex=True) for t in g.tasks]
            row = [esc(m), *cells, f"{g.mean_over_tasks(m):.3f}"]
            if base in g.methods:
                a = g.against(m, base) if m != base else None
                row += [f"{a['won']}/{a['tasks']}", f"{a['p']:.3g}"] if a else ["--", "--"]
            lines.append(" & ".join(row) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}", ""]
        parts.append("\n".join(lines))
    return "\n".join(parts)


def csv_text(rows: list[Row]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([getattr(r, k) for k in CSV_COLUMNS])
    return buf.getvalue()


def heatmap_png(groups_: list[Group], path: Path) -> None:
    """Mean UAR, method x task, one panel per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(groups_),
        1,
        figsize=(
            1.6 + 1.5 * max(len(g.tasks) for g in groups_),
            0.8 + sum(0.5 * len(g.methods) + 0.9 for g in groups_),
        ),
        squeeze=False,
    )
    for ax, g in zip(axes[:, 0], groups_, strict=True):
        z = np.array([[g.cell_mean(m, t) for t in g.tasks] for m in g.methods])
        im = ax.imshow(z, cmap="viridis", aspect="auto")
        ax.set_xticks(
            range(len(g.tasks)), [t.replace(" -> ", "\n-> ") for t in g.tasks], fontsize=7
        )
        ax.set_yticks(range(len(g.methods)), g.methods, fontsize=8)
        for (i, j), v in np.ndenumerate(z):
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    f"{v:.3f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v < np.nanmean(z) else "black",
                )
        ax.set_title(
            f"mean UAR ({g.label_space}, {g.protocol}, selection: {g.selection})", fontsize=9
        )
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(
    out: Path,
    methods: Iterable[str] = (),
    tasks: Iterable[str] = (),
    baseline: str = "source_only",
    runs: Iterable[str] | None = None,
) -> str:
    """Writes results.md, results.csv, results.tex and uar.png in `out` from its
    finished runs (`runs`: only the folders of these names, e.g. a sweep's own;
    None: every run folder); returns the Markdown. Folders left out are said in
    one line each on stderr and at the end of results.md."""
    out = Path(out)
    found = collect(out, runs)
    rows = [r for r in found.rows if r.draw <= 0]  # a search's other draws: search.md
    notes = []
    if len(rows) < len(found.rows):
        notes.append(
            f"{len(found.rows) - len(rows)} runs of search draws other than 0 (each method's "
            "own config) are tabled in search.md, not here"
        )
    if found.other:
        notes.append(
            f"{found.other} other folders in {out} are not runs of this table and were left out"
        )
    notes += [f"left out: {line}" for line in found.bad]
    for line in notes:
        print(line, file=sys.stderr)
    left_out = "".join(f"\n- {n}" for n in notes)
    left_out = f"\nRun folders not tabled:{left_out}\n" if notes else ""
    if not rows:
        text = f"no finished run in {out}\n" + left_out
        files.write_text(out / "results.md", text)
        return text
    gs = groups(rows, methods, tasks)
    text = markdown(gs, baseline)
    oods = ood_rows([r for r in rows if not methods or r.method in methods])
    if oods:
        text += "\n" + ood_markdown(oods)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(oods[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(oods)
        files.write_text(out / "ood.csv", buf.getvalue())
    text += left_out
    files.write_text(out / "results.md", text)
    files.write_text(out / "results.csv", csv_text(rows))
    files.write_text(out / "results.tex", latex(gs, baseline))
    heatmap_png(gs, out / "uar.png")
    return text
