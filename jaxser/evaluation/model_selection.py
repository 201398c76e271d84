"""Model selection over a hyperparameter search: which draw, and which evaluated
step of it, each rule picks, and what that choice scored on the target.

A search (`python -m jaxser.sweep --search N`) runs N settings ("draws") of
each method on every task and seed; every run evaluates the target every
`train.eval_every` steps and logs, per evaluation, the target-test figures
and the selection scores (metrics.jsonl "eval" rows). The candidates of a
(method, task, label space, seed, fold) are every evaluated step of every
draw; a rule picks one, and the figures reported for it are that step's own
evaluation (its predictions at that step), never an interpolation.

Rules (`RULES`: the logged score and its sign, higher is better after it):
- `last`: the config's own setting (draw 0) at its last step: no selection,
  today's default;
- `source-val`: UAR on the source speakers held out of training
  (`data.source_val`, `validation/uar`);
- `dev`: Deep Embedded Validation's risk (`validation/dev`, lower is better);
- `iwcv`: the importance-weighted validation loss (`validation/iwcv`);
- `im`, `snd`, `entropy`: the label-free target scores (`label_free/*`);
- `oracle`: target-test UAR itself: it reads the target labels, so it is an
  upper bound, never a result and never a default.
A rule whose score a candidate lacks (source-free runs have no source
validation) gives no choice for that cell.

The frozen setting of a method under a rule (one draw for every task of a
label space and protocol): the draw with the best mean rank of the rule's
score at the last step over the method's (task, seed) cells there. Rank
correlation: Spearman's rho between the rule's signed score and target UAR
over a cell's candidates, the mean over cells (on the development tasks only:
that is where a rule is judged).

Searches add up: every report also writes `candidates.jsonl.gz`, one line per
candidate (its run's row, step, selection scores and figures, and its values
of the searched keys). `write(..., merge=[file, ...])` tables those files'
candidates with the folder's own, so a search run in parts (on several
machines, in several sessions) is judged as one; reading them executes
nothing.
"""

import collections
import dataclasses
import gzip
import json
from pathlib import Path

import numpy as np

from jaxser import files, run_folder
from jaxser.evaluation import report

# rule -> (metrics.jsonl key, sign: +1 higher is better); None: draw 0, last step
RULES: dict[str, tuple[str, float] | None] = {
    "last": None,
    "source-val": ("validation/uar", 1.0),
    "dev": ("validation/dev", -1.0),
    "iwcv": ("validation/iwcv", -1.0),
    "im": ("label_free/im", 1.0),
    "snd": ("label_free/snd", 1.0),
    "entropy": ("label_free/entropy", -1.0),
    "oracle": ("uar", 1.0),
}
UPPER_BOUND = ("oracle",)  # read target labels: a ceiling beside the tables
# the rules a user with an unlabelled target can choose by: they read no target labels
LABEL_FREE = tuple(r for r, spec in RULES.items() if spec is not None and r not in UPPER_BOUND)
FIGURES = ("uar", "war", "macro_f1", "pred_balance")
CANDIDATES = "candidates.jsonl.gz"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One evaluated step of one run of a search."""

    row: report.Row  # the run's: its cell, draw and setting (sweep.json's)
    step: int
    last: bool  # the run's last step
    scores: dict  # the eval row: figures and selection scores
    # the run's value of every key its method's search draws (JSON text, the
    # marginals' "value"); read from its config.json
    values: dict = dataclasses.field(default_factory=dict, compare=False)

    @property
    def draw(self) -> int:
        return self.row.draw

    @property
    def setting(self) -> str:
        """The draw's overrides; for draw 0 "defaults", or "frozen: ..." where its
        config froze a setting (sweep.setting_text)."""
        return self.row.setting

    @property
    def cell(self) -> tuple:
        r = self.row
        return (r.method, r.task, r.label_space, r.protocol, r.seed, r.fold)


def candidates(out: Path, runs=None) -> tuple[list[Candidate], list[str]]:
    """Every evaluated step of every finished search run under `out` (`runs`:
    only these folder names), and a line per folder left out."""
    found = report.collect(out, runs)
    rows = [r for r in found.rows if r.draw >= 0 and r.method != report.BEFORE]
    # not a search run, or the source model (step 0 of its runs)
    keys = searched_keys(rows)
    cands = []
    for row in rows:
        values = _values(Path(out) / row.run, keys[row.method])
        evals = files.read_jsonl(Path(out) / row.run / "metrics.jsonl")
        by_step = {int(r["step"]): r for r in evals if r.get("kind") == "eval"}  # resumed: later
        for step, scores in sorted(by_step.items()):
            cands.append(Candidate(row, step, step == row.steps, scores, values))
    return cands, found.bad


def searched_keys(rows: list[report.Row]) -> dict[str, list[str]]:
    """Per method, the config keys its draws set (from their settings)."""
    keys = collections.defaultdict(set)
    for r in rows:
        if r.draw > 0:
            keys[r.method] |= {part.split("=", 1)[0] for part in r.setting.split(", ")}
    return collections.defaultdict(list, {m: sorted(k) for m, k in keys.items()})


def _values(run: Path, keys: list[str]) -> dict:
    """The run's values of `keys` as JSON text (keys added since it was saved: the
    default it ran with); none when its config.json cannot be read."""
    if not keys:
        return {}
    try:
        config = run_folder.read_config(run)
    except (run_folder.NoRun, files.DamagedFile):
        return {}
    return {k: json.dumps(_config_value(config, k)) for k in keys}


SAVED_SCORES = {*FIGURES, *(spec[0] for spec in RULES.values() if spec)}  # of a candidate


def _record(c: Candidate) -> dict:
    row = dataclasses.asdict(c.row) | {"ood": None}
    scores = {k: v for k, v in c.scores.items() if k in SAVED_SCORES}
    return {"row": row, "step": c.step, "last": c.last, "scores": scores, "values": c.values}


def save(path: Path, cands: list[Candidate]) -> None:
    """The candidates as gzipped JSON lines (what a later `merge` reads); the same
    candidates give the same bytes."""
    text = "".join(json.dumps(_record(c)) + "\n" for c in cands)
    files.write_bytes(path, gzip.compress(text.encode(), mtime=0))


def load(path: Path) -> list[Candidate]:
    """Candidates saved by `save`; DamagedFile naming the file when it cannot be read."""
    try:
        with gzip.open(path, "rt") as f:
            lines = f.read().splitlines()
        return [
            Candidate(report.Row(**r["row"]), int(r["step"]), bool(r["last"]), r["scores"],
                      r.get("values", {}))
            for r in map(json.loads, lines)
        ]  # fmt: skip
    except FileNotFoundError:
        raise files.DamagedFile(f"{path} is missing (a search's {CANDIDATES})") from None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as e:
        raise files.DamagedFile(
            f"{path} cannot be read as a search's {CANDIDATES} ({type(e).__name__}: {e})"
        ) from None


def combine(*groups: list[Candidate]) -> tuple[list[Candidate], list[str]]:
    """The candidates of several searches as one, in folder-name order (as one
    folder of them all is read): a run present in several (the same folder
    name) is taken whole from the first group holding it, and named in the
    notes where a later copy differs (another machine or other figures: the
    same config run again, whose numbers are not the tabled ones); runs of
    different configs in one (method, task, seed, draw) cell are all left out
    (report.one_run_per_cell), named in the notes."""
    first: dict[str, int] = {}  # run -> the group it is taken from
    out, copies = [], {}
    for i, cands in enumerate(groups):
        for c in cands:
            if first.setdefault(c.row.run, i) == i:
                out.append(c)
            elif c.last:
                copies.setdefault(c.row.run, c.row)
    out.sort(key=lambda c: (c.row.run, c.step))
    rows = list({c.row.run: c.row for c in out}.values())
    kept, notes = report.one_run_per_cell(rows)
    notes = [_copy_note(r, copies[r.run]) for r in rows if _differs(r, copies.get(r.run))] + notes
    keep = {r.run for r in kept}
    return [c for c in out if c.row.run in keep], notes


def _differs(row: report.Row, copy: report.Row | None) -> bool:
    """A later copy of a run that is not the same result (machine or figures)."""
    return copy is not None and (
        row.machine != copy.machine
        or any(getattr(row, k) != getattr(copy, k) for k in (*FIGURES, "steps"))
    )


def _copy_note(row: report.Row, copy: report.Row) -> str:
    def where(r: report.Row) -> str:
        return f"UAR {r.uar:.3f} on {r.machine or 'a machine not recorded'}"

    return (
        f"{row.run}: given twice with other figures ({where(row)}; again: {where(copy)}); "
        "the first given is tabled (this folder's runs, then the --merge files in order)"
    )


def score(rule: str, c: Candidate) -> float | None:
    """The rule's signed score of a candidate (higher is better), None if not logged."""
    key, sign = RULES[rule]
    value = c.scores.get(key)
    return None if value is None or not np.isfinite(value) else sign * float(value)


def choose(rule: str, cands: list[Candidate]) -> Candidate | None:
    """The rule's pick among one cell's candidates (ties: the earlier draw, then
    the earlier step)."""
    if RULES[rule] is None:
        last = [c for c in cands if c.draw == 0 and c.last]
        return last[0] if last else None
    scored = [(s, c) for c in cands if (s := score(rule, c)) is not None]
    if not scored:
        return None
    best = max(s for s, _ in scored)
    return min((c for s, c in scored if s == best), key=lambda c: (c.draw, c.step))


def by_cell(cands: list[Candidate]) -> dict[tuple, list[Candidate]]:
    cells = collections.defaultdict(list)
    for c in cands:
        cells[c.cell].append(c)
    return dict(cells)


def chosen_rows(rule: str, cands: list[Candidate]) -> list[tuple[report.Row, Candidate]]:
    """Per cell, the rule's pick as a table row (selection = the rule; the figures
    of the chosen step; wall time: the chosen run's)."""
    out = []
    for cell in by_cell(cands).values():
        c = choose(rule, cell)
        if c is None:
            continue
        row = dataclasses.replace(
            c.row, selection=rule, **{k: float(c.scores[k]) for k in FIGURES}, steps=c.step
        )
        out.append((row, c))
    return out


def rank_correlation(
    rule: str, cands: list[Candidate], last_only: bool = False
) -> dict[str, float]:
    """Spearman's rho of the rule's score with target UAR, mean over each method's
    cells (and "all": over every cell), cells of 3+ scored candidates;
    `last_only`: among the draws at their last step (how well it ranks settings)."""
    from scipy import stats  # only when a table is made

    if RULES[rule] is None:
        return {}
    rhos = collections.defaultdict(list)
    for cell, cs in by_cell(cands).items():
        cs = [c for c in cs if c.last] if last_only else cs
        pairs = [(s, c.scores["uar"]) for c in cs if (s := score(rule, c)) is not None]
        if len(pairs) < 3 or len({s for s, _ in pairs}) < 2 or len({u for _, u in pairs}) < 2:
            continue
        rho = float(stats.spearmanr(*zip(*pairs, strict=True)).statistic)
        rhos[cell[0]].append(rho)
        rhos["all"].append(rho)
    return {m: float(np.mean(v)) for m, v in rhos.items()}


def frozen(rule: str, cands: list[Candidate]) -> dict[tuple[str, str, str], tuple[int, str, float]]:
    """Per (label space, protocol, method): (draw, its setting, its mean target UAR
    at the last step over the cells) with the best mean rank of the rule's
    last-step score over that label space's and protocol's cells. A method is
    frozen per label space and protocol: binary arousal, valence, categorical
    cross-corpus and LOSO each choose their own draw."""
    by_method = collections.defaultdict(list)
    for (method, _, space, protocol, *_), cs in by_cell(cands).items():
        by_method[space, protocol, method].append(cs)
    out = {}
    for method, cells in by_method.items():
        ranks = collections.defaultdict(list)
        uars = collections.defaultdict(list)
        settings = {}
        for cs in cells:
            last = [c for c in cs if c.last]
            for c in last:
                settings[c.draw] = c.setting
                uars[c.draw].append(c.scores["uar"])
            if RULES[rule] is None:
                continue
            scored = [(s, c.draw) for c in last if (s := score(rule, c)) is not None]
            order = sorted(scored, key=lambda x: -x[0])
            for rank, (_, draw) in enumerate(order):
                ranks[draw].append(rank)
        if RULES[rule] is None:
            pick = 0 if 0 in settings else None
        else:
            full = [d for d in ranks if len(ranks[d]) == len(cells)]  # scored in every cell
            pick = min(full, key=lambda d: (np.mean(ranks[d]), d)) if full else None
        if pick is not None:
            out[method] = (pick, settings[pick], float(np.mean(uars[pick])))
    return out


def summary(cands: list[Candidate], methods: list[str], picked: dict[str, list]) -> str:
    """One line per (label space, protocol, method): the mean over tasks of each
    rule's mean UAR over seeds, the oracle last (the ceiling); `picked`: rule ->
    `chosen_rows`."""
    picks = {rule: [r for r, _ in picked[rule]] for rule in RULES}
    lines = [
        "| label space, protocol | method | " + " | ".join(f"`{r}`" for r in RULES) + " |",
        "|---" * (len(RULES) + 2) + "|",
    ]
    spaces = list(dict.fromkeys((c.row.label_space, c.row.protocol) for c in cands))
    for space in spaces:
        present = {c.row.method for c in cands if (c.row.label_space, c.row.protocol) == space}
        for m in [m for m in methods if m in present]:
            cells = []
            for rule in RULES:
                rows = [r for r in picks[rule] if (r.label_space, r.protocol) == space]
                g = report.groups([r for r in rows if r.method == m])
                cells.append(f"{g[0].mean_over_tasks(m):.3f}" if g else "-")
            lines.append(f"| {', '.join(space)} | {m} | " + " | ".join(cells) + " |")
    return (
        "Mean target UAR over tasks (each task: the mean over seeds) of what each rule "
        "picked; `oracle` is the ceiling:\n\n" + "\n".join(lines) + "\n"
    )


def _versus_last(space: tuple, method: str, rule: str, rows: list, last: list) -> dict | None:
    """`Group.against` of a method's picked rows with the `last` rows of the same
    cells (renamed "last")."""
    rows = rows + [dataclasses.replace(r, method="last") for r in last]
    tasks = list(dict.fromkeys(r.task for r in rows))
    return report.Group(*space, rule, [method, "last"], tasks, rows).against(method, "last")


# the columns of report.comparison_cells against `last`
VERSUS_LAST_COLUMNS = ("tasks won vs `last`", "mean UAR", "`last`", "diff", "Wilcoxon p (pairs)")


def _table_head(*columns: str) -> list[str]:
    """A Markdown table's header and rule lines."""
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]


def against_last(cands: list[Candidate], methods: list[str], picked: dict[str, list]) -> str:
    """Per (label space, protocol, method) and rule: what choosing per task by the
    rule gives against the config's own setting at its last step (`last`):
    tasks won, mean UARs and the paired Wilcoxon p over (task, seed) pairs. On
    test tasks whose draw 0 is the frozen setting, this is the issue's question:
    does a per-task label-free choice beat one frozen setting? `picked`: rule ->
    `chosen_rows`."""
    lines = _table_head("label space, protocol", "method", "rule", *VERSUS_LAST_COLUMNS)
    spaces = list(dict.fromkeys((c.row.label_space, c.row.protocol) for c in cands))
    for space in spaces:
        for m in methods:
            base = [r for r, _ in picked["last"] if r.method == m
                    and (r.label_space, r.protocol) == space]  # fmt: skip
            for rule in [r for r in RULES if r != "last"]:
                mine = [r for r, _ in picked[rule] if r.method == m
                        and (r.label_space, r.protocol) == space]  # fmt: skip
                if a := _versus_last(space, m, rule, mine, base):
                    name = f"`{rule}`" + (" (ceiling)" if rule in UPPER_BOUND else "")
                    lines.append(
                        f"| {', '.join(space)} | {m} | {name} | {report.comparison_cells(a)} |"
                    )
    if len(lines) == 2:
        return ""
    return (
        "## Choosing per task against one setting\n\nEach rule's per-task pick against "
        "the config's own setting at its last step (`last`, draw 0: the frozen setting once "
        "one is frozen into the config): tasks won (mean over seeds), mean target UAR over "
        "tasks, and a two-sided paired Wilcoxon signed-rank p over (task, seed) pairs.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def best_label_free(dev: list[Candidate]) -> dict[tuple[str, str, str], tuple[str, float]]:
    """Per (label space, protocol, method) of a development search: the label-free
    rule whose score ranks the method's runs (its draws at their last step: what
    the per-task choice picks among, `runs_of`) most like target UAR, and its rank
    correlation; `last` (no choice) where no rule ranks them better than chance
    (rho <= 0). Ties: the earlier rule in RULES. Runs, not every evaluated step:
    over steps a score is rewarded for telling a trained step from an early
    one, and picking among steps by it did worse on the development tasks
    (docs/results.md, part 6)."""
    spaces = collections.defaultdict(list)
    for c in dev:
        spaces[c.row.label_space, c.row.protocol].append(c)
    out = {}
    for space, cs in spaces.items():
        rhos = {rule: rank_correlation(rule, cs, last_only=True) for rule in LABEL_FREE}
        for method in dict.fromkeys(c.row.method for c in cs):
            scored = [(rho[method], rule) for rule, rho in rhos.items() if method in rho]
            if scored:
                rho, rule = max(scored, key=lambda x: x[0])  # the first of equals
                out[(*space, method)] = (rule if rho > 0 else "last", rho)
    return out


def runs_of(cands: list[Candidate]) -> list[Candidate]:
    """The runs: each draw at its last step (what the per-task choice picks among)."""
    return [c for c in cands if c.last]


def refuse_shared(tasks, dev_tasks) -> None:
    """SharedTasks naming the tasks a search and its development search both hold:
    a rule judged there would read the labels of the tasks it chooses on."""
    if shared := sorted(set(tasks) & set(dev_tasks)):
        raise SharedTasks(
            f"the development search (--rules_from) holds tasks of this search "
            f"({', '.join(shared)}): its rules would be judged on the labels of the "
            "tasks they choose on"
        )


def held_out_comparisons(
    cands: list[Candidate], freeze: str = "oracle"
) -> dict[tuple[str, str, str], tuple[dict, dict]]:
    """The protocol tried on a development search: each part in turn held out (a
    task; each fold of a LOSO task on its own), the method's setting frozen
    (`frozen(freeze, ...)`) and its label-free rule chosen (`best_label_free`)
    on the rest, both then scored on the held-out part, where the rule chooses
    per (task, seed, fold) without its labels. Per (label space, protocol,
    method): `Group.against` of the per-task choice with the frozen setting, and
    of the frozen setting with the config's own (draw 0). Methods with fewer
    than 2 parts to hold out are left out."""
    spaces = collections.defaultdict(list)
    for c in cands:
        spaces[c.row.label_space, c.row.protocol, c.row.method].append(c)
    out = {}
    for (*space, method), mine in sorted(spaces.items()):
        parts = list(dict.fromkeys((c.row.task, c.row.fold) for c in mine))
        if len(parts) < 2:
            continue
        rows = []
        for part in parts:
            rest = [c for c in mine if (c.row.task, c.row.fold) != part]
            here = [c for c in mine if (c.row.task, c.row.fold) == part]
            fz = frozen(freeze, rest).get((*space, method))
            if fz is None:
                continue
            rule = best_label_free(rest).get((*space, method), ("last", 0.0))[0]
            for cell in by_cell(here).values():
                pick = choose(rule, runs_of(cell))
                fixed = [c for c in cell if c.draw == fz[0] and c.last]
                base = choose("last", cell)
                if pick is None or not fixed or base is None:
                    continue
                for name, c in (("per task", pick), ("frozen", fixed[0]), ("draw 0", base)):
                    rows.append(dataclasses.replace(c.row, method=name, uar=c.scores["uar"]))
        tasks = list(dict.fromkeys(r.task for r in rows))
        g = report.Group(*space, "held out", ["per task", "frozen", "draw 0"], tasks, rows)
        a, b = g.against("per task", "frozen"), g.against("frozen", "draw 0")
        if a and b:
            out[(*space, method)] = (a, b)
    return out


def held_out(cands: list[Candidate], freeze: str = "oracle") -> str:
    """search.md's cross-check of the protocol on a development search
    (`held_out_comparisons`): per method, the per-task choice against the frozen
    setting, and the frozen setting against the config's own (draw 0): tasks
    won, means and the paired Wilcoxon p over (task, seed[, fold]) pairs. ""
    with fewer than 2 tasks (folds) to hold out."""
    lines = [
        "| label space, protocol | method | per task vs frozen: won | per task | frozen "
        "| diff | p (pairs) | frozen vs draw 0: won | frozen | draw 0 | diff | p (pairs) |",
        "|---" * 12 + "|",
    ]
    for (*space, method), (a, b) in held_out_comparisons(cands, freeze).items():
        cells = f"{report.comparison_cells(a)} | {report.comparison_cells(b)}"
        lines.append(f"| {', '.join(space)} | {method} | {cells} |")
    if len(lines) == 2:
        return ""
    return (
        "## Each task held out\n\nThe protocol tried on the development tasks: each "
        "task (each fold of a LOSO task) in turn held out, the setting frozen "
        f"by `{freeze}` and the label-free "
        "rule chosen (the best rank correlation over the draws at their last step, "
        "`last` if none beats chance) on the rest; on the held-out part, the "
        "rule's per-task pick among those draws against the frozen "
        "setting at its last step, and the frozen setting against the config's own "
        "(draw 0): tasks won, mean target UAR, difference, and the paired Wilcoxon p "
        "over (task, seed[, fold]) pairs. Nothing chosen for a part reads its labels. "
        "A test search (`--rules_from`) chooses per task only for the methods whose "
        "per-task choice beat the frozen setting here (`task_rules`).\n\n" + "\n".join(lines) + "\n"
    )


@dataclasses.dataclass(frozen=True)
class TaskRule:
    """How a method chooses its setting per task on unlabelled tasks, judged on
    its development search (`task_rules`)."""

    rule: str  # what chooses per task: `ranked`, or "last" (the frozen setting: no choice)
    ranked: str  # the label-free rule that ranked the draws best ("last" if none beat chance)
    rho: float  # `ranked`'s rank correlation over the draws at their last step
    held: dict | None  # `held_out_comparisons`' per task vs frozen; None: nothing to hold out


def task_rules(dev: list[Candidate]) -> dict[tuple[str, str, str], TaskRule]:
    """Per (label space, protocol, method) of a development search: the rule that
    chooses per task. The rule that ranks the draws best (`best_label_free`) is
    kept only where the protocol tried on the development search, each task held
    out (`held_out_comparisons`), gave a per-task choice above the frozen
    setting; else `last`, the frozen setting. A rule can rank all draws well and
    still put a bad draw first, and the per-task choice uses only its first
    (docs/results.md, part 15: ECAN's `snd`)."""
    held = held_out_comparisons(dev)
    out = {}
    for key, (ranked, rho) in best_label_free(dev).items():
        h = held[key][0] if key in held else None
        keep = ranked != "last" and h is not None and h["mean"] > h["baseline_mean"]
        out[key] = TaskRule(ranked if keep else "last", ranked, rho, h)
    return out


def _held_text(h: dict | None) -> str:
    """A `held_out_comparisons` result as one cell: per task minus frozen, and p."""
    if h is None:
        return "- (nothing to hold out)"
    return f"{h['mean'] - h['baseline_mean']:+.3f} (p {h['p']:.3g})"


def per_task(cands: list[Candidate], rules: dict[tuple[str, str, str], TaskRule]) -> str:
    """search.md's comparison of each method's per-task choice (`task_rules` of its
    development search: the best-ranking label-free rule where, on the development
    tasks held out, choosing by it beat the frozen setting; else `last`) with the
    config's own setting at its last step (`last`): what a user with unlabelled
    corpora can do against one frozen setting; then each seed method against its
    paper's baselines (report.PAPER_BASELINES) with every method chosen so; then,
    where `last` was kept though a rule ranked better than chance, what that rule
    would have given. A method run at one setting only (its draws not run on these
    tasks) has no choice to compare: it is named below the table, never tabled as
    if chosen."""
    rule = ("label space, protocol", "method", "ranked best (development rho)",
            "development, held out: per task - frozen")  # fmt: skip
    lines = _table_head(*rule, "chooses by", *VERSUS_LAST_COLUMNS)
    declined = _table_head(*rule, *VERSUS_LAST_COLUMNS)
    without, single, papers = [], [], []
    for space in dict.fromkeys((c.row.label_space, c.row.protocol) for c in cands):
        picked = {}
        for m in dict.fromkeys(c.row.method for c in cands):
            mine = [c for c in cands if c.row.method == m
                    and (c.row.label_space, c.row.protocol) == space]  # fmt: skip
            if not mine:
                continue
            if (*space, m) not in rules:
                without.append(f"{m} ({', '.join(space)})")
                continue
            if len({c.draw for c in mine}) < 2:  # nothing to choose among: no line, no pairing
                single.append(f"{m} ({', '.join(space)})")
                continue
            t = rules[(*space, m)]
            last = [r for r, _ in chosen_rows("last", mine)]
            head = f"| {', '.join(space)} | {m} | `{t.ranked}` ({t.rho:+.2f}) "
            head += f"| {_held_text(t.held)}"
            rows = [r for r, _ in chosen_rows(t.rule, runs_of(mine))]
            picked[m] = rows
            if a := _versus_last(space, m, t.rule, rows, last):
                lines.append(f"{head} | `{t.rule}` | {report.comparison_cells(a)} |")
            if t.rule == "last" and t.ranked != "last":
                ranked = [r for r, _ in chosen_rows(t.ranked, runs_of(mine))]
                if a := _versus_last(space, m, t.ranked, ranked, last):
                    declined.append(f"{head} | {report.comparison_cells(a)} |")
        every = [r for rs in picked.values() for r in rs]
        tasks = list(dict.fromkeys(r.task for r in every))
        group = report.Group(*space, "per task", list(picked), tasks, every)
        if table := report.paper_comparisons(group):
            papers.append(f"\n{', '.join(space)}:\n\n{table}")
    text = (
        "## Choosing per task by the development search's best label-free rule\n\n"
        "Each method's per-task pick among its draws at their last step, by the "
        "label-free rule that ranked its runs most like target UAR on the development "
        "search (Spearman's rho over the draws at their last step), where that "
        "search, each task held out in turn (setting frozen and rule chosen on the "
        "rest), gave a per-task choice above the frozen setting; else `last`, no "
        "choice (no rule ranked better than chance, or its first picks did not pay "
        "there). Against the config's own setting at its last step: tasks won "
        "(mean over seeds), mean target UAR over tasks, and a two-sided paired "
        "Wilcoxon signed-rank p over (task, seed) pairs. It reads no labels of these "
        "tasks.\n\n" + "\n".join(lines) + "\n"
    )
    if papers:
        text += (
            "\nEach seed method against its paper's baselines with both chosen per task "
            "(each by its own rule above), paired by (task, seed[, fold]):\n" + "".join(papers)
        )
    if len(declined) > 2:
        text += (
            "\nNot chosen by: where a rule ranked the development runs better than chance "
            "but choosing by it did not beat the frozen setting on the development tasks "
            "held out, what choosing by it would have given here (beside the table, not "
            "a result):\n\n" + "\n".join(declined) + "\n"
        )
    if single:
        text += (
            "\nOne setting only, nothing chosen per task (its search's draws not run "
            "here): " + ", ".join(single) + ".\n"
        )
    if without:
        text += "\nNo development search of: " + ", ".join(without) + ".\n"
    return text


def _config_value(config, key: str):
    """`config.<key>` (dotted), None where the config has no such key."""
    node = config
    for part in key.split("."):
        if not hasattr(node, "keys") or part not in node:
            return None
        node = node[part]
    return node


def marginals(cands: list[Candidate]) -> str:
    """Per method and searched key: each value's mean target UAR at the last step
    over the runs that had it (every draw, task and seed; values read from each
    run's config, so draw 0's defaults count too, and keys added since a run was
    saved hold the default it ran with). What a term or option changes across
    the search, on average over the rest of the setting."""
    keys = searched_keys(list({c.row.run: c.row for c in cands}.values()))
    lines = ["| method | key | value: mean target UAR (runs) |", "|---|---|---|"]
    for method, names in keys.items():
        last = [c for c in cands if c.row.method == method and c.last]
        for key in names:
            by_value = collections.defaultdict(list)
            for c in last:  # a run without a readable config.json: its values are unknown
                if key in c.values:
                    by_value[c.values[key]].append(c.scores["uar"])
            cells = ", ".join(
                f"{v}: {np.mean(u):.3f} ({len(u)})" for v, u in sorted(by_value.items())
            )
            lines.append(f"| {method} | {key} | {cells} |")
    return (
        "## What each searched setting changes\n\nMean target UAR at the last step of the "
        "runs that had each value (over the other settings, tasks and seeds):\n\n"
        + "\n".join(lines)
        + "\n"
    )


def markdown(cands: list[Candidate], baseline: str = "source_only", rules=None) -> str:
    """The search's tables: per rule, method x task (report.markdown's), the
    choices made, the frozen setting per method; then each rule's rank correlation.
    `rules` (`task_rules` of a development search): also each method's
    per-task choice by its rule; without them (a development search), each task
    held out (`held_out`, whose freezing reads the other tasks' labels)."""
    methods = list(dict.fromkeys(c.row.method for c in cands))
    tasks = list(dict.fromkeys(c.row.task for c in cands))
    draws = {m: len({c.draw for c in cands if c.row.method == m}) for m in methods}
    walls = {c.row.run: c.row.wall_s for c in cands}
    total = float(np.nansum(list(walls.values())))
    parts = [
        "## Model selection over the search\n",
        "Draws per method: " + ", ".join(f"{m} {n}" for m, n in draws.items()) + ". "
        "Each rule picks, per (method, task, seed), one evaluated step of one draw; "
        "the figures are that step's own evaluation. `oracle` reads the target labels: "
        "an upper bound, not a result (jaxser/evaluation/model_selection.py). "
        f"{len(walls)} runs, {total / 3600:.2f} h of run wall time in all. "
        + report.machines({c.row.run: c.row for c in cands}.values())
        + "\n",
    ]
    chosen = {rule: chosen_rows(rule, cands) for rule in RULES}
    parts.append(summary(cands, methods, chosen) + "\n")
    if rules is not None:  # a test search: choosing per task by the development rules
        parts.append(per_task(cands, rules))
    elif crossed := held_out(cands):  # a development search: the protocol tried on it
        parts.append(crossed)
    if choosing := against_last(cands, methods, chosen):
        parts.append(choosing)
    for rule in RULES:
        picked = chosen[rule]
        if not picked:
            parts.append(f"## Rule `{rule}`\n\nNo candidate has its score.\n")
            continue
        title = "upper bound, reads target labels" if rule in UPPER_BOUND else "no target labels"
        parts.append(f"## Rule `{rule}` ({title})\n")
        parts.append(report.markdown(report.groups([r for r, _ in picked], methods, tasks),
                                     baseline))  # fmt: skip
        lines = ["| method | task | seed | draw | step | setting |", "|---|---|---|---|---|---|"]
        for row, c in sorted(picked, key=lambda x: (methods.index(x[0].method), x[0].task,
                                                     x[0].seed, x[0].fold)):  # fmt: skip
            fold = f" fold {row.fold}" if row.fold >= 0 else ""
            lines.append(
                f"| {row.method} | {row.task}{fold} | {row.seed} | {c.draw} | {c.step} "
                f"| {c.setting} |"
            )
        parts.append("Choices:\n\n" + "\n".join(lines) + "\n")
        fz = frozen(rule, cands)
        if fz:
            lines = [
                "| label space, protocol | method | frozen draw "
                "| mean target UAR at its last step | setting |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {space}, {protocol} | {m} | {d} | {u:.3f} | {s} |"
                for (space, protocol, m), (d, s, u) in sorted(fz.items())
            ]
            parts.append(
                f"Frozen setting under `{rule}` (one draw for every task of a label space "
                "and protocol: the best mean rank of its last-step score over their "
                "cells):\n\n" + "\n".join(lines) + "\n"
            )
    rules = [r for r in RULES if RULES[r] is not None]
    lines = [
        "| rule | " + " | ".join(f"{m}: {w}" for m in [*methods, "all"] for w in ("steps", "draws"))
        + " |",
        "|---" * (2 * len(methods) + 3) + "|",
    ]  # fmt: skip
    for r in rules:
        every, last = rank_correlation(r, cands), rank_correlation(r, cands, last_only=True)
        cells = [
            f"{rho[m]:+.2f}" if m in rho else "-"
            for m in [*methods, "all"]
            for rho in (every, last)
        ]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    parts.append(
        "## Rank correlation with target UAR\n\nSpearman's rho between each rule's score "
        "(signed: higher is better) and target UAR, mean over cells: over every "
        "evaluated step of every draw (steps), and over the draws at their last step "
        "(draws: how well it ranks settings). Judge rules on development tasks only.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    return "\n".join(parts)


def has_search(out: Path) -> bool:
    """Whether a folder holds runs of a search (a sweep.json with a draw)."""
    for meta in Path(out).glob(f"*/{run_folder.SWEEP}"):
        try:
            if "draw" in files.read_json(meta):
                return True
        except files.DamagedFile:
            continue
    return False


class SharedTasks(ValueError):
    """A development search given to choose rules holds a task being chosen on."""


def rules_of(cands: list[Candidate], rules_from) -> dict[tuple[str, str, str], TaskRule]:
    """`task_rules` of the development search in the files `rules_from`, for the
    (label space, protocol, method)s of `cands` only (each method's rule reads
    its own runs alone); SharedTasks if it holds a task of `cands`."""
    dev, _ = combine(*(load(Path(f)) for f in rules_from))
    refuse_shared({c.row.task for c in cands}, {c.row.task for c in dev})
    wanted = {(c.row.label_space, c.row.protocol, c.row.method) for c in cands}
    return task_rules(
        [c for c in dev if (c.row.label_space, c.row.protocol, c.row.method) in wanted]
    )


def write(out: Path, runs=None, baseline: str = "source_only", merge=(), rules_from=()) -> str:
    """`<out>/search.md` from the search runs under `out` and the candidates files
    in `merge` (earlier searches' `candidates.jsonl.gz`), and `<out>/candidates.jsonl.gz`
    of everything it tabled; returns search.md's text. `rules_from`: a
    development search's candidates files, whose best label-free rule per method
    also chooses per task here (SharedTasks if they hold a task of this search)."""
    own, bad = candidates(Path(out), runs)
    cands, clashes = combine(own, *(load(Path(f)) for f in merge))
    rules = rules_of(cands, rules_from) if rules_from else None
    if not cands:
        text = f"no finished search run in {out}\n"
    else:
        sources = "".join(f"- {f}\n" for f in merge)
        text = markdown(cands, baseline, rules) + "\n" + marginals(cands)
        if merge:
            text += f"\nWith the candidates of earlier searches:\n\n{sources}"
        if rules_from:
            text += "\nRules per method from the development search:\n\n" + "".join(
                f"- {f}\n" for f in rules_from
            )
        save(Path(out) / CANDIDATES, cands)
    if bad or clashes:
        text += "\nRun folders left out (of a run given twice: the later copy):\n"
        text += "".join(f"- {b}\n" for b in [*bad, *clashes])
    files.write_text(Path(out) / "search.md", text)
    return text
