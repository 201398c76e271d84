"""tools/protocol.py: the development search's coverage, counted from candidates."""

import protocol
import pytest

from jaxser.evaluation import model_selection as ms
from jaxser.evaluation import report


def _candidate(method, task, seed, draw, space="categorical", fold=-1, machine="M"):
    row = report.Row(
        method=method, task=task, label_space=space, protocol="transductive", selection="last",
        seed=seed, uar=0.5, war=0.5, macro_f1=0.5, pred_balance=1.0, steps=300, wall_s=360.0,
        run=f"{method}-{task}-{space}-{fold}-{draw}-{seed}", fold=fold, config_hash=f"{draw}",
        draw=draw, machine=machine,
    )  # fmt: skip
    return [ms.Candidate(row, 150, False, {"uar": 0.4}), ms.Candidate(row, 300, True, {"uar": 0.5})]


def test_cells_done_and_runs_left_are_counted_from_finished_draws():
    dev = [report.task_name(s, t) for s, t in protocol.sweep.tasks_of(["dev6"])]
    cands = []
    for task in dev:  # source_only: every cell, every draw
        for seed in (0, 1):
            for draw in range(8):
                cands += _candidate("source_only", task, seed, draw)
    for draw in range(5):  # dann: one cell, 5 of its 8 draws
        cands += _candidate("dann", dev[0], 0, draw, machine="N")
    for draw in range(8):  # msac: a LOSO fold's cell, whole
        cands += _candidate("msac", "synth_emovo (loso)", 1, draw, fold=3)
    rows = {(r["space"], r["method"]): r for r in protocol.coverage(cands, draws=8)}
    assert rows["categorical", "source_only"] | {"hours": 0} == {
        "space": "categorical", "method": "source_only", "done": 12, "cells": 12, "left": 0,
        "hours": 0, "machines": ["M"], "test_hours": pytest.approx(4 * 3 * 8 * 360 / 3600),
    }  # fmt: skip
    tests = protocol.test_runs(8)  # 4 test pairs, the binary 2, synth_emodb's 10 LOSO folds
    assert tests["categorical", "ecan"] == 4 * 3 * 8 and tests["valence", "dann"] == 2 * 3 * 8
    assert tests["categorical, loso", "msac_ce"] == 10 * 3 * 8 and len(tests) == len(rows)
    assert (rows["categorical", "dann"]["done"], rows["categorical", "dann"]["left"]) == (0, 91)
    assert rows["categorical", "dann"]["hours"] == pytest.approx(91 * 360 / 3600)
    assert rows["categorical", "dann"]["machines"] == ["N"]
    assert (rows["categorical, loso", "msac"]["done"], rows["categorical, loso", "msac"]["left"]) \
        == (1, 11 * 8)  # fmt: skip
    assert rows["arousal", "emodna"]["left"] == 12 * 8 and ("arousal", "mmd") not in rows
    commands = protocol.commands(list(rows.values()), 8)
    assert not any("source_only" in c and "categorical" in c for c in commands)
    loso = ("python -m jaxser.sweep --methods msac_ce,msac --loso synth_emovo --folds 0-5 "
            "--set terms.adv.weight=0 --seeds 0,1 --search 8")  # fmt: skip
    assert any(c.startswith(loso) for c in commands)
    merge = {"categorical, loso": ["loso.jsonl.gz"], "arousal": ["a.jsonl.gz", "b.jsonl.gz"]}
    merged = {c.split(" --label_spaces ")[-1].split()[0] if "--label_spaces" in c else "loso": c
              for c in protocol.commands(list(rows.values()), 8, merge)}  # fmt: skip
    assert merged["loso"].endswith(" --merge loso.jsonl.gz")
    assert merged["arousal"].endswith(" --merge a.jsonl.gz --merge b.jsonl.gz")
    assert "--merge" not in merged["categorical"] and "--merge" not in merged["valence"]
    assert protocol.space_of(cands[-1].row) == "categorical, loso"
    # no test phase yet: source_only's categorical search is whole, its binary ones are not
    assert protocol.test_commands(list(rows.values()), 8) == []
    done = [r | {"done": r["cells"]} if (r["method"], r["space"]) in
            (("coral", "categorical"), ("msac", "categorical, loso")) else r
            for r in rows.values()]  # fmt: skip
    assert protocol.test_commands(done, 8, {"categorical": ["c.jsonl.gz"]}) == [
        "python -m jaxser.sweep --methods coral --tasks test4 --label_spaces categorical "
        "--seeds 0,1,2 --search 8 --jobs 2 --out runs/test/categorical --rules_from c.jsonl.gz",
    ]  # msac: its categorical search is not whole, so neither is it tested in LOSO
    done = [r | {"done": r["cells"]} if r["method"] == "msac" else r for r in done]
    assert protocol.test_commands(done, 8)[1] == (
        "python -m jaxser.sweep --methods msac --loso synth_emodb --folds 0-9 "
        "--set terms.adv.weight=0 --seeds 0,1,2 --search 8 --jobs 2 "
        "--out runs/test/categorical_loso"
    )


def test_runs_of_a_search_space_since_changed_are_stale_and_not_counted():
    """A run counts only while its draw number still names its setting: today's
    draw of the method's space, `--set` overrides read through "(drawn ...)"."""
    import dataclasses

    from jaxser import search

    space = search.load("configs/dann.py")
    now = search.overrides(search.draw(space, "dann", 3))
    runs = {
        "same": ", ".join(now),
        "set": ", ".join(  # a --set overrode the drawn weight: still today's draw 3
            f"terms.adv.weight=0 (drawn {o.split('=', 1)[1]})"
            if o.startswith("terms.adv.weight=") else o for o in now
        ),
        "moved": ", ".join(o if not o.startswith("train.warmup_steps=") else "train.warmup_steps=7"
                           for o in now),
        "fewer keys": ", ".join(now[1:]),
    }  # fmt: skip
    dev = report.task_name("synth_emodb", "synth_emovo")
    cands = []
    for name, setting in runs.items():
        for c in _candidate("dann", dev, 0, 3):
            row = dataclasses.replace(c.row, run=name, setting=setting)
            cands.append(dataclasses.replace(c, row=row))
    assert protocol.stale(cands) == {"moved", "fewer keys"}
    assert report.drawn_values("a=1, b=0 (drawn 0.3)") == {"a": "1", "b": "0.3"}
    assert report.drawn_values("defaults") == {}
    ran = report.ran_setting("frozen: a=1, b=0.3", ["b=0"])  # what ran_setting writes it reads
    assert ran == "frozen: a=1, b=0 (drawn 0.3)"
    assert report.drawn_values(ran) == {"a": "1", "b": "0.3"}
    counted = protocol.coverage(cands, 8, protocol.stale(cands))
    rows = {(r["space"], r["method"]): r for r in counted}
    assert rows["categorical", "dann"]["left"] == 12 * 8 - 1  # one draw of one cell: draw 3
    only_stale = [c for c in cands if c.row.run in ("moved", "fewer keys")]
    counted = protocol.coverage(only_stale, 8, protocol.stale(only_stale))
    assert {(r["space"], r["method"]): r for r in counted}["categorical", "dann"]["left"] == 96


def _row(method, seed, uar, machine, draw=0, task="a -> b"):
    return report.Row(
        method=method, task=task, label_space="categorical", protocol="transductive",
        selection="last", seed=seed, uar=uar, war=uar, macro_f1=uar, pred_balance=1.0, steps=300,
        wall_s=60.0, run=f"{method}-{task}-{draw}-{seed}", draw=draw, machine=machine,
    )  # fmt: skip


def test_machine_gap_pairs_a_run_across_machines_and_seeds_within_one():
    import machine_gap

    rows = [
        _row("dann", 0, 0.50, "X"), _row("dann", 0, 0.53, "Y"),  # one run on both machines
        _row("dann", 1, 0.40, "X"), _row("dann", 1, 0.38, "Y"),
        _row("dann", 0, 0.60, "X", draw=1),  # seed 1 missing: no seed pair, one machine only
        _row("mmd", 0, 0.45, "X"),
    ]  # fmt: skip
    g = machine_gap.gaps(rows)
    assert g["dann"]["machine"] == pytest.approx([0.03, -0.02])  # Y minus X, per run
    assert sorted(g["dann"]["seed"]) == pytest.approx([0.10, 0.15])  # on X, then on Y
    assert g["mmd"] == {"machine": [], "seed": []}
    assert (
        machine_gap._line("dann", g["dann"])
        == "| dann | 2 | +0.0050 | 0.0250 | 0.0300 | 2 | 0.1250 |"
    )


def test_freeze_takes_the_oracle_draw_of_a_complete_search_with_the_values_it_ran():
    import dataclasses
    import json

    import freeze

    from jaxser import search

    dev = [report.task_name(s, t) for s, t in protocol.sweep.tasks_of(["dev6"])]

    def whole(method, proto="transductive"):  # a complete categorical search, draw 6 best
        space, out = search.load(f"configs/{method}.py"), []
        for task in dev:
            for seed in (0, 1):
                for draw in range(8):
                    setting = ", ".join(search.overrides(search.draw(space, method, draw)))
                    for c in _candidate(method, task, seed, draw):
                        uar = 0.3 + 0.01 * draw * (draw != 7) + 0.001 * seed
                        values = {"terms.coral.weight": json.dumps(float(draw)), "x.y": '"a"'}
                        row = dataclasses.replace(c.row, setting=setting or "defaults",
                                                  protocol=proto)  # fmt: skip
                        out.append(dataclasses.replace(c, row=row, scores={"uar": uar},
                                                       values=values))  # fmt: skip
        return out

    cands = whole("coral")
    for draw in range(8):  # dann: one cell only, its search not complete
        cands += _candidate("dann", dev[0], 0, draw)
    cands += whole("emodna")  # emodna: categorical whole, but its arousal and valence not run
    # a source-free run's results say protocol "source_free"; its config's data are
    # transductive, so its frozen() entry is "categorical"
    cands += whole("shot", proto="source_free")
    choices = freeze.chosen(cands)
    assert set(choices) == {("coral", "categorical"), ("shot", "categorical")}
    cands = [c for c in cands if c.row.method != "shot"]
    stale = [dataclasses.replace(c, row=dataclasses.replace(c.row, setting="x.y=b"))
             if c.draw == 3 else c for c in cands]  # fmt: skip
    assert freeze.chosen(stale) == {}  # a stale draw: the search is not complete
    c = choices["coral", "categorical"]
    assert (c["draw"], c["cells"]) == (6, 12)
    assert c["setting"] == {"terms.coral.weight": 6.0, "x.y": "a"}
    assert c["uar"] == pytest.approx(0.36 + 0.0005)
    draw0 = [dataclasses.replace(c, scores={"uar": 1.0 if c.draw == 0 else 0.1}) for c in cands]
    assert freeze.chosen(draw0)["coral", "categorical"]["setting"] == {}  # the config's own


def test_every_frozen_setting_is_the_development_searchs_choice():
    """What each config's frozen() holds is what tools/freeze.py picks from the
    development search kept in docs/searches (rule `oracle` on development labels),
    and nothing is frozen for a search not complete."""
    import freeze

    files = sorted((protocol.Path(__file__).parents[1] / "docs" / "searches").glob("*.jsonl.gz"))
    cands, _ = ms.combine(*(ms.load(f) for f in files))
    assert freeze.check(freeze.chosen(cands)) == []


def test_freeze_writes_a_frozen_function_that_loads_as_chosen_and_replaces_itself(tmp_path):
    import subprocess
    import sys

    import freeze

    from jaxser import config as config_lib
    from jaxser import search

    plain = (
        '"""Deep CORAL, its own defaults."""\n\nfrom configs import coral\n\n\n'
        "def get_config():\n    return coral.get_config()\n\n\n"
        "def search_space():\n    return coral.search_space()\n"
    )
    path = tmp_path / "coral.py"
    path.write_text(plain)
    own = config_lib.load("configs/coral.py", frozen=False).to_dict()
    assert config_lib.load(str(path)).to_dict() == own
    draw = search.draw(search.load("configs/coral.py"), "coral", 6)
    entries = {
        "categorical": {"draw": 6, "uar": 0.4, "cells": 12, "setting": draw},
        "arousal": {"draw": 0, "uar": 0.8, "cells": 12, "setting": {}},
    }
    freeze.write(path, entries, "oracle")
    module = config_lib.load_module(str(path))
    assert config_lib.frozen_settings(module, str(path)) == {"categorical": draw, "arousal": {}}
    config = config_lib.load(str(path))
    assert config_lib.load(str(path), search.overrides(draw)).to_dict() == config.to_dict()
    assert config.to_dict() != own
    entries["categorical"] = {"draw": 0, "uar": 0.4, "cells": 12, "setting": {}}
    freeze.write(path, entries, "oracle")  # replaced, not added twice
    text = path.read_text()
    assert text.count("def frozen():") == 1 and text.startswith(plain)
    assert config_lib.load(str(path)).to_dict() == own
    ruff = subprocess.run([sys.executable, "-m", "ruff", "format", "--diff", str(path)],
                          capture_output=True, text=True)  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout  # written as ruff formats it
