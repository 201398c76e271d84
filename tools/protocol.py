"""How far is the development search of docs/design.md's protocol, and what is left?

    python tools/protocol.py docs/searches/*.jsonl.gz runs/search/candidates.jsonl.gz

Reads searches' candidates files (`python -m jaxser.sweep --search`'s
candidates.jsonl.gz, jaxser/evaluation/model_selection.py) and sets them
against the protocol's development search: every method, categorical, on the
6 development pairs (`--tasks dev6`); Emo-DNA and its paper's baselines also in
binary arousal and valence; MSAC-SERNet and its plain-CE baseline on synth_emovo LOSO;
`--draws` (8) draws and seeds 0 and 1 each. Prints, per (label space, method),
the cells done (all draws finished) out of those asked, the machines they ran
on, and the runs left with their CPU hours at the method's mean recorded run
wall time, then one sweep command per (label space, method group) that runs
what is left (the files holding that label space's runs given as `--merge`:
the sweep skips their runs), and what the
test phase will cost at the same wall times (3 seeds; the draws again on every
test task, for the per-task choice beside the frozen setting).
"""

import argparse
import collections
from pathlib import Path

import numpy as np

from jaxser import search, sweep
from jaxser.evaluation import model_selection, report

TRANSDUCTIVE = ("source_only", "dann", "mmd", "coral", "dsan", "emodna", "didan", "lidan", "msac")
SOURCE_FREE = ("shot", "nrc", "aad", "ecan")
EMODNA_AND_BASELINES = ("source_only", "dann", "emodna")
# MSAC-SERNet against its plain-CE baseline; its attribute controls are a dimension of
# its own search space (configs/msac.py), the fixed-control configs are for analysis
MSAC_AND_BASELINE = ("msac_ce", "msac")
LOSO_CORPUS, LOSO_FOLDS = "synth_emovo", 6  # its speakers: one fold each
SEEDS = (0, 1)
# the test phase: 3 seeds, the search's draws again on every test task (draw 0 the
# frozen setting, the others for the per-task choice)
TEST_SEEDS = (0, 1, 2)
BINARY_TEST_TASKS = ("synth_emodb:synth_casia", "synth_casia:synth_emodb")
TEST_LOSO_CORPUS, TEST_LOSO_FOLDS = "synth_emodb", 10  # its 10 speakers


def all_methods() -> tuple[str, ...]:
    """Every method the protocol searches."""
    return tuple(dict.fromkeys(TRANSDUCTIVE + SOURCE_FREE + MSAC_AND_BASELINE))


def cells(draws: int) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """The protocol's development search: (label space, method) -> its (task, seed)
    cells, each of which needs `draws` finished draws."""
    dev = [report.task_name(s, t) for s, t in sweep.tasks_of(["dev6"])]
    loso = [f"{report.task_name(LOSO_CORPUS, LOSO_CORPUS, True)} fold {k}"
            for k in range(LOSO_FOLDS)]  # fmt: skip
    out = {("categorical", m): [(t, s) for t in dev for s in SEEDS]
           for m in TRANSDUCTIVE + SOURCE_FREE}  # fmt: skip
    for space in ("arousal", "valence"):
        out |= {(space, m): [(t, s) for t in dev for s in SEEDS] for m in EMODNA_AND_BASELINES}
    out |= {
        ("categorical, loso", m): [(t, s) for t in loso for s in SEEDS] for m in MSAC_AND_BASELINE
    }
    return out


def test_runs(draws: int) -> dict[tuple[str, str], int]:
    """The protocol's test phase: (label space, method) -> its runs."""
    test4 = len(sweep.tasks_of(["test4"]))
    out = {("categorical", m): test4 * len(TEST_SEEDS) * draws
           for m in TRANSDUCTIVE + SOURCE_FREE}  # fmt: skip
    for space in ("arousal", "valence"):
        out |= {(space, m): len(BINARY_TEST_TASKS) * len(TEST_SEEDS) * draws
                for m in EMODNA_AND_BASELINES}  # fmt: skip
    out |= {("categorical, loso", m): TEST_LOSO_FOLDS * len(TEST_SEEDS) * draws
            for m in MSAC_AND_BASELINE}  # fmt: skip
    return out


def space_of(row) -> str:
    """A run's part of the protocol: its label space, ", loso" for LOSO folds."""
    return f"{row.label_space}, loso" if row.fold >= 0 else row.label_space


def stale(cands: list, search_seed: int = 0) -> set[str]:
    """The runs whose draw is no longer their method's: the config's search space
    (its keys or distributions) changed since they ran, so their draw number names
    another setting today. They count as not run."""
    spaces, out = {}, set()
    for c in cands:
        r = c.row
        if r.draw <= 0 or r.run in out:
            continue
        if r.method not in spaces:
            spaces[r.method] = search.load(f"configs/{r.method}.py")
        now = {k: str(v) for k, v in search.draw(spaces[r.method], r.method, r.draw,
                                                    search_seed).items()}  # fmt: skip
        ran = report.drawn_values(r.setting)
        if set(ran) != set(now) or not all(report.same_value(ran[k], now[k]) for k in now):
            out.add(r.run)
    return out


def coverage(cands: list, draws: int, old: set[str] = frozenset()) -> list[dict]:
    """Per protocol (label space, method): cells done, runs left, their estimated
    hours, and the machines of the runs found; `old`: runs of a search space
    since changed (`stale`), not counted."""
    found = collections.defaultdict(set)  # (space, method, task, seed) -> draws finished
    walls, machines = collections.defaultdict(list), collections.defaultdict(set)
    for c in cands:
        r = c.row
        if not c.last or r.run in old:
            continue
        space = space_of(r)
        task = f"{r.task} fold {r.fold}" if r.fold >= 0 else r.task
        found[space, r.method, task, r.seed].add(c.draw)
        if np.isfinite(r.wall_s):
            walls[r.method].append(r.wall_s)
        machines[space, r.method].add(r.machine or "not recorded")
    every_wall = [w for ws in walls.values() for w in ws]
    tests = test_runs(draws)
    out = []
    for (space, method), asked in cells(draws).items():
        have = [len(found[space, method, t, s] & set(range(draws))) for t, s in asked]
        left = sum(draws - h for h in have)
        wall = np.mean(walls[method] or every_wall or [float("nan")])
        out.append({
            "space": space, "method": method, "done": sum(h == draws for h in have),
            "cells": len(asked), "left": left, "hours": left * wall / 3600,
            "machines": sorted(machines[space, method]),
            "test_hours": tests[space, method] * wall / 3600,
        })  # fmt: skip
    return out


def commands(rows: list[dict], draws: int, merge: dict | None = None) -> list[str]:
    """One sweep command per (label space, method group) with runs left; `merge`:
    label space -> the candidates files holding its finished runs, each given as
    `--merge`, so that the sweep runs only what is left (it skips the runs a
    merged file holds, wherever they ran)."""
    out = []
    for space in dict.fromkeys(r["space"] for r in rows):
        left = [r["method"] for r in rows if r["space"] == space and r["left"]]
        if not left:
            continue
        if space.endswith("loso"):  # speaker-independent: nothing adapts to the tested speaker
            where = f"--loso {LOSO_CORPUS} --folds 0-{LOSO_FOLDS - 1} --set terms.adv.weight=0"
        else:
            where = f"--tasks dev6 --label_spaces {space}"
        out.append(_command(left, where, SEEDS, draws, "dev", space, "--merge", merge))
    return out


def _command(methods, where: str, seeds, draws: int, phase: str, space: str, flag: str,
             files: dict | None) -> str:  # fmt: skip
    """A sweep command of the protocol: into runs/<phase>/<space>, each of `files`'
    candidates files of `space` given with `flag`."""
    folder = f"runs/{phase}/" + space.replace(", ", "_")
    given = "".join(f" {flag} {f}" for f in (files or {}).get(space, ()))
    return (
        f"python -m jaxser.sweep --methods {','.join(methods)} {where} "
        f"--seeds {','.join(map(str, seeds))} --search {draws} --jobs 2 --out {folder}" + given
    )


def test_commands(rows: list[dict], draws: int, dev: dict | None = None) -> list[str]:
    """One test-phase sweep command per label space, for the methods whose
    development cells are all done in every label space: 3 seeds, the search's
    draws (draw 0 the frozen setting, once `tools/freeze.py` has written it), and
    `--rules_from`
    the development candidates of that label space (`dev`: label space -> files),
    for the per-task choice by each method's best label-free rule there."""
    out = []
    # a method is frozen once its every development search is done: freezing edits its
    # config file, whose bytes name its runs, so a search of it left to run would start over
    waiting = {r["method"] for r in rows if r["done"] < r["cells"]}
    for space in dict.fromkeys(r["space"] for r in rows):
        ready = [r["method"] for r in rows if r["space"] == space and r["method"] not in waiting]
        if not ready:
            continue
        if space.endswith("loso"):
            where = (f"--loso {TEST_LOSO_CORPUS} --folds 0-{TEST_LOSO_FOLDS - 1} "
                     "--set terms.adv.weight=0")  # fmt: skip
        elif space == "categorical":
            where = "--tasks test4 --label_spaces categorical"
        else:
            where = f"--tasks {','.join(BINARY_TEST_TASKS)} --label_spaces {space}"
        out.append(_command(ready, where, TEST_SEEDS, draws, "test", space, "--rules_from", dev))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="*", type=Path, help="searches' candidates.jsonl.gz")
    p.add_argument("--draws", type=int, default=8, help="the protocol's budget per method")
    args = p.parse_args(argv)
    loaded = {f: model_selection.load(f) for f in args.files}
    cands, _ = model_selection.combine(*loaded.values())
    merge = collections.defaultdict(list)  # label space -> the files holding its runs
    for f, cs in loaded.items():
        for space in sorted({space_of(c.row) for c in cs}):
            merge[space].append(f)
    old = stale(cands)
    counts = collections.Counter(c.row.method for c in cands if c.last and c.row.run in old)
    for method, n in sorted(counts.items()):
        print(f"{method}: {n} runs drew settings its config's search space no longer draws "
              f"(configs/{method}.py changed since): counted as not run; move their "
              "candidates files out of the --merge list")  # fmt: skip
    rows = coverage(cands, args.draws, old)
    print("| label space | method | cells done | runs left | CPU hours left | machines |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['space']} | {r['method']} | {r['done']}/{r['cells']} | {r['left']} "
              f"| {r['hours']:.1f} | {'; '.join(r['machines']) or '-'} |")  # fmt: skip
    left, hours = sum(r["left"] for r in rows), sum(r["hours"] for r in rows)
    print(f"\n{left} runs left, {hours:.1f} run-hours at the recorded wall times "
          "(two runs at a time on 2 cores: about half that in wall time)")  # fmt: skip
    tests = sum(test_runs(args.draws).values())
    test_hours = sum(r["test_hours"] for r in rows)
    print(f"Then the test phase: {tests} runs ({len(TEST_SEEDS)} seeds, {args.draws} draws), "
          f"{test_hours:.1f} run-hours at the same wall times\n")  # fmt: skip
    print("\n".join(commands(rows, args.draws, merge)))
    ready = test_commands(rows, args.draws, merge)
    if ready:
        print(
            "\nThe test phase of the methods whose development search is complete, once "
            "`python tools/freeze.py <these files> --check` passes (their frozen() written):\n"
        )
        print("\n".join(ready))


if __name__ == "__main__":
    main()
