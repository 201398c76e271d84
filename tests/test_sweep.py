import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import fakes
import numpy as np
import pytest
from scipy import stats
from tiny import TINY

from jaxser import sweep
from jaxser.config import ConfigError
from jaxser.evaluation import report

UARS = {  # method -> task -> per-seed UAR
    "source_only": {"a -> b": [0.50, 0.52, 0.47], "b -> a": [0.40, 0.41, 0.39]},
    "dann": {"a -> b": [0.55, 0.51, 0.56], "b -> a": [0.38, 0.45, 0.42]},
}


def fake_runs(out: Path, uars=UARS, balance=0.9) -> None:
    """Run folders with results.json as jaxser.train writes them."""
    for method, tasks in uars.items():
        for task, values in tasks.items():
            source, target = task.split(" -> ")
            for seed, uar in enumerate(values):
                d = out / f"{method}-{source}-{target}-seed{seed}"
                b = 0.0 if uar < 0.39 else balance
                meta = {"method": method, "wall_s": 10.0}
                fakes.finished_run(d, method, task, seed, uar, b, meta)


def test_tables_hold_the_means_stds_and_wilcoxon_of_the_runs(tmp_path):
    fake_runs(tmp_path)
    text = report.write(tmp_path, ["source_only", "dann"], ["a -> b", "b -> a"])
    for tasks in UARS.values():
        for values in tasks.values():
            cell = f"{np.mean(values):.3f} +- {np.std(values, ddof=1):.3f}"
            assert cell in text
    # the best per task in bold; one source_only run of b -> a has pred_balance 0
    assert f"**{np.mean(UARS['dann']['a -> b']):.3f} +- " in text
    assert f"**{np.mean(UARS['dann']['b -> a']):.3f} +- " in text
    assert "(1/3 collapsed)" in text
    # against source_only: tasks won and scipy's paired Wilcoxon over (task, seed)
    diff = [
        d - s
        for t in ("a -> b", "b -> a")
        for d, s in zip(UARS["dann"][t], UARS["source_only"][t], strict=True)
    ]
    p = stats.wilcoxon(diff).pvalue
    assert re.search(rf"\| dann \| 2/2 \| .* \| {p:.3g} \(6\) \|", text)
    over_tasks = np.mean([np.mean(v) for v in UARS["dann"].values()])
    assert f"| {over_tasks:.3f} |" in text
    assert "Model selection: the last step" in text and "Label space: categorical" in text
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert len(rows) == 12 and set(rows[0]) == set(report.CSV_COLUMNS)
    got = sorted(float(r["uar"]) for r in rows if r["method"] == "dann")
    assert got == sorted(sum(UARS["dann"].values(), []))
    tex = (tmp_path / "results.tex").read_text()
    assert "\\textbf{" in tex and "\\begin{tabular}" in tex and f"{p:.3g}" in tex
    assert (tmp_path / "uar.png").stat().st_size > 1000


def test_each_seed_method_is_compared_with_its_own_papers_baselines(tmp_path):
    uars = UARS | {"emodna": {"a -> b": [0.60, 0.49, 0.58], "b -> a": [0.41, 0.40, 0.44]}}
    fake_runs(tmp_path, uars)
    text = report.write(tmp_path, ["source_only", "dann", "emodna"], ["a -> b", "b -> a"])
    table = text.split("against its paper's baseline")[1]
    for base in ("source_only", "dann"):
        diff = [
            e - b
            for t in ("a -> b", "b -> a")
            for e, b in zip(uars["emodna"][t], uars[base][t], strict=True)
        ]
        p = stats.wilcoxon(diff).pvalue
        won = sum(np.mean(uars["emodna"][t]) > np.mean(uars[base][t]) for t in ("a -> b", "b -> a"))
        mean = np.mean([np.mean(v) for v in uars["emodna"].values()])
        assert re.search(rf"\| emodna \| {base} \| {won}/2 \| {mean:.3f} \| .* \| {p:.3g} \(6\) \|",
                         table)  # fmt: skip
    assert "| dann | source_only |" not in table  # DANN is a baseline, not a seed method
    # without a seed method's baselines in the group there is no such table
    other = tmp_path / "other"
    fake_runs(other)
    assert "against its paper's baseline" not in report.write(other, ["source_only", "dann"])


def test_task_sets_and_bad_names():
    assert len(sweep.tasks_of(["ecan12"])) == 12 and len(sweep.tasks_of(["didan6"])) == 6
    assert ("synth_emodb", "synth_casia") in sweep.tasks_of(["didan6"])
    assert ("casia", "emovo") in sweep.tasks_of(["ecan12"], real=True)
    assert sweep.tasks_of(["didan6", "synth_emodb:synth_casia"]) == sweep.tasks_of(["didan6"])
    with pytest.raises(ConfigError, match="unknown corpus 'nope'.*known"):
        sweep.tasks_of(["nope:synth_casia"])
    with pytest.raises(
        ConfigError, match="named set; sets: \\['dev6', 'didan6', 'ecan12', 'test4'\\]"
    ):
        sweep.tasks_of(["ecan13"])
    # the protocol's sets: every pair with EMOVO, and EmoDB with CASIA and eNTERFACE
    dev, test = sweep.tasks_of(["dev6"]), sweep.tasks_of(["test4"])
    assert len(set(dev)) == 6 and all("synth_emovo" in pair for pair in dev)
    assert {frozenset(p) for p in dev} == {
        frozenset({f"synth_{c}", "synth_emovo"}) for c in ("emodb", "casia", "enterface")
    }
    assert test == [
        ("synth_emodb", "synth_casia"),
        ("synth_casia", "synth_emodb"),
        ("synth_emodb", "synth_enterface"),
        ("synth_enterface", "synth_emodb"),
    ]
    assert set(sweep.tasks_of(["ecan12"])) == set(dev) | set(sweep.tasks_of(["didan6"]))


def _sweep(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jaxser.sweep", *args], capture_output=True, text=True
    )


def test_real_corpora_not_prepared_fail_before_any_run(tmp_path):
    r = _sweep("--methods", "source_only", "--tasks", "didan6", "--real", "--seeds", "0",
               "--out", str(tmp_path / "out"), "--set", f"data.data_dir={tmp_path}")  # fmt: skip
    assert r.returncode == 1 and "Traceback" not in r.stderr
    for corpus in ("emodb", "casia", "enterface"):
        assert f"python -m jaxser.prepare --corpus {corpus} --path" in r.stderr
    assert not (tmp_path / "out").exists()
    r = _sweep("--methods", "source_only,nope", "--tasks", "didan6", "--out", str(tmp_path))
    assert r.returncode == 1 and "nope" in r.stderr and "dann.py" in r.stderr
    # leave one corpus out: each corpus of a union is asked for on its own
    r = _sweep("--methods", "source_only", "--tasks", "loco:emodb,casia,enterface",
               "--seeds", "0", "--out", str(tmp_path / "out"),
               "--set", f"data.data_dir={tmp_path}")  # fmt: skip
    assert r.returncode == 1 and "Traceback" not in r.stderr
    for corpus in ("emodb", "casia", "enterface"):
        assert f"python -m jaxser.prepare --corpus {corpus} --path" in r.stderr


def test_a_sweep_resumes_reports_failures_and_runs_nothing_twice(tmp_path, small_data_dir):
    """Tiny runs: one interrupted beforehand (resumed), one failing (reported, the
    rest completes), then a second invocation that runs nothing."""
    broken = tmp_path / "broken.py"  # passes every check, then diverges: a non-finite loss
    broken.write_text(
        "from configs import source_only\n\n\ndef get_config():\n"
        "    c = source_only.get_config()\n    c.train.learning_rate = 1e38\n    return c\n"
    )
    out = tmp_path / "sweep"
    sets = [a for o in [*TINY, f"data.data_dir={small_data_dir}"] for a in ("--set", o)]
    args = ["--methods", f"source_only,{broken}", "--tasks", "synth_emodb:synth_casia",
            "--seeds", "0,1", "--out", str(out), "--jobs", "2", *sets]  # fmt: skip
    # seed 1 of source_only is stopped after 2 of its 4 steps, as a preemption would
    [run] = [
        r
        for r in sweep.plan(["source_only"], [("synth_emodb", "synth_casia")], [1], TINY)
        if r.seed == 1
    ]
    run = sweep.Run(*[getattr(run, f) for f in ("method", "config", "source", "target", "seed",
                                                "label_space")],
                    (*TINY, f"data.data_dir={small_data_dir}"))  # fmt: skip
    (run,) = sweep.resolve([run])
    subprocess.run([*run.command(out / run.name), "--max_steps", "2"], check=True,
                   capture_output=True)  # fmt: skip
    assert not (out / run.name / "results.json").exists()

    r = _sweep(*args)
    assert r.returncode == 1, r.stderr[-3000:]
    assert "4 runs, 0 finished, 4 to run, 2 at a time" in r.stderr
    assert r.stderr.count("FAILED") == 2 and "2 of 4 runs failed" in r.stderr
    assert "error: non-finite loss at step" in r.stderr  # the log's last lines
    assert re.search(r"\[\d/4\] source_only-synth_emodb-synth_casia-seed0-\w{10}: UAR", r.stderr)
    steps = [
        json.loads(line)["step"]
        for line in (out / run.name / "metrics.jsonl").open()
        if json.loads(line)["kind"] == "train"
    ]
    assert steps == [1, 2, 3, 4]  # resumed at step 2, not restarted
    table = (out / "results.md").read_text()
    uars = [
        json.loads(next(out.glob(f"source_only-synth_emodb-synth_casia-seed{s}-*/results.json"))
                   .read_text())["uar"]
        for s in (0, 1)
    ]  # fmt: skip
    assert f"{np.mean(uars):.3f} +- {np.std(uars, ddof=1):.3f}" in table

    args[1] = "source_only"  # the finished runs only: nothing to run
    again = _sweep(*args)
    assert again.returncode == 0 and "2 runs, 2 finished, 0 to run" in again.stderr
    # the same table; the broken config's folders are not runs of this command
    mine, note = (out / "results.md").read_text().split("\nRun folders not tabled:\n")
    assert mine == table and note.startswith("- 2 other folders in")
    r = _sweep("--report", str(out))
    assert r.returncode == 0 and (out / "results.md").read_text() == table


def _finished(out: Path, run, config_hash: str | None = None, uar: float = 0.5) -> Path:
    """A finished run folder of `run` as jaxser.train writes it (config.json, its
    stage's stage.json when it starts from one, results.json)."""
    from jaxser import config as config_lib
    from jaxser import experiment

    d = out / run.name
    d.mkdir(parents=True)
    config = config_lib.load(run.config, run.all_overrides())
    (d / "config.json").write_text(config_lib.to_json(config))
    stage = experiment.check(config)
    if stage is not None:
        (d / "stage.json").write_text(config_lib.to_json(stage))
    results = {
        "uar": uar, "war": uar, "macro_f1": uar, "pred_balance": 0.9, "method": run.method,
        "source": run.source, "target": run.target, "label_space": "categorical",
        "seed": run.seed, "steps": config.train.steps, "protocol": "transductive",
        "selection": "last", "config_hash": config_hash or run.config_hash,
    }  # fmt: skip
    (d / "results.json").write_text(json.dumps(results))
    return d


def test_another_set_or_config_file_is_another_run_never_a_stale_one(tmp_path):
    task = [("synth_emodb", "synth_casia")]
    (five,) = sweep.resolve(sweep.plan(["source_only"], task, [0], ["train.steps=5"]))
    (ten,) = sweep.resolve(sweep.plan(["source_only"], task, [0], ["train.steps=10"]))
    assert five.name != ten.name and five.config_hash != ten.config_hash
    assert five.name.startswith("source_only-synth_emodb-synth_casia-seed0-")
    out = tmp_path / "out"
    _finished(out, five)
    assert sweep.finished(five, out / five.name)
    assert not sweep.finished(ten, out / ten.name)  # the 10-step run is run, in its own folder
    # another config's results under this run's name: refused, naming the keys
    shutil.copytree(out / five.name, out / ten.name)
    with pytest.raises(ConfigError, match=r"results of another config.*train.steps"):
        sweep.finished(ten, out / ten.name)
    # the config file's bytes are part of the identity, not only the config they make
    mine = tmp_path / "mine.py"
    mine.write_text(Path("configs/source_only.py").read_text())
    (a,) = sweep.resolve(sweep.plan([str(mine)], task, [0]))
    mine.write_text(mine.read_text() + "\n# edited\n")
    (b,) = sweep.resolve(sweep.plan([str(mine)], task, [0]))
    assert a.key != b.key and a.config_hash == b.config_hash


def test_tables_hold_only_the_runs_asked_for_and_skip_damaged_ones(tmp_path, capsys):
    task = [("synth_emodb", "synth_casia")]
    runs = sweep.resolve(sweep.plan(["source_only", "dann"], task, [0]))
    for run, uar in zip(runs, (0.5, 0.6), strict=True):
        _finished(tmp_path, run, uar=uar)
    # a foreign run copied in (it would "win 1/1"), and a stale run of another --set
    (stale,) = sweep.resolve(sweep.plan(["dann"], task, [0], ["train.steps=5"]))
    _finished(tmp_path, stale, uar=0.99)
    text = report.write(tmp_path, ["source_only", "dann"], ["synth_emodb -> synth_casia"],
                        runs=[r.name for r in runs])  # fmt: skip
    assert "0.990" not in text and "| dann | 1/1 | 0.600 " in text
    assert "1 other folders" in capsys.readouterr().err and "1 other folders" in text
    # a damaged results.json (cut short) and one of another config: named, left out
    (tmp_path / runs[1].name / "results.json").write_text('{"uar": 0.6, "war"')
    (tmp_path / stale.name / "config.json").write_text(
        (tmp_path / runs[0].name / "config.json").read_text()
    )
    text = report.write(tmp_path)  # every folder: none is fatal
    err = capsys.readouterr().err
    assert f"left out: {tmp_path / runs[1].name}: cannot table its results" in err
    assert "results.json is damaged (not valid JSON" in err
    assert f"left out: {tmp_path / stale.name}: results.json is not of the config" in err
    assert "0.500" in text and "0.600" not in text and "0.990" not in text
    assert "Run folders not tabled" in (tmp_path / "results.md").read_text()


def test_a_task_of_one_corpus_is_refused_outside_loso():
    with pytest.raises(ConfigError, match=r"'synth_emodb:synth_emodb' trains and tests on one"):
        sweep.tasks_of(["synth_emodb:synth_emodb"])
    assert sweep.tasks_of(["synth_emodb:synth_emodb"], loso=True) == [
        ("synth_emodb", "synth_emodb")
    ]
    with pytest.raises(SystemExit, match="error: .*--loso synth_casia --folds 0-9$"):
        sweep.main(["--methods", "source_only", "--tasks", "synth_casia:synth_casia"])


def test_an_out_that_is_a_file_fails_in_one_line(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(SystemExit, match=r"^error: --out .*f is a file, not a folder"):
        sweep.main(["--methods", "source_only", "--tasks", "synth_emodb:synth_casia",
                    "--seeds", "0", "--out", str(tmp_path / "f")])  # fmt: skip


def test_a_report_of_every_folder_never_averages_two_configs_as_seeds(tmp_path, capsys):
    task = [("synth_emodb", "synth_casia")]
    (five,) = sweep.resolve(sweep.plan(["source_only"], task, [0], ["train.steps=5"]))
    (ten,) = sweep.resolve(sweep.plan(["source_only"], task, [0], ["train.steps=10"]))
    (dann,) = sweep.resolve(sweep.plan(["dann"], task, [0]))
    _finished(tmp_path, five, uar=0.21)
    _finished(tmp_path, ten, uar=0.47)
    _finished(tmp_path, dann, uar=0.55)
    shutil.copytree(tmp_path / dann.name, tmp_path / "copy-of-dann")
    text = report.write(tmp_path)
    err = capsys.readouterr().err
    both = ", ".join(sorted([five.name, ten.name]))  # in folder order
    assert f"{both}: source_only on synth_emodb -> synth_casia, seed 0, in runs of" in err
    assert "0.210" not in text and "0.470" not in text and "0.340" not in text
    assert f"copy-of-dann, {dann.name}: one run (one config) twice; tabled copy-of-dann" in err
    assert "| dann | **0.550 +- 0.000** |" in text  # once, not a mean over two copies


def test_runs_held_by_a_merged_file_are_not_run_again(tmp_path, monkeypatch):
    """`--merge`'s runs (folder name and config hash) count as finished: a search
    resumed from its kept candidates runs only what they lack."""
    plan = sweep.plan(["source_only"], [("synth_emodb", "synth_emovo")], [0, 1], TINY,
                      search=2, search_overrides=["train.eval_every=2"])  # fmt: skip
    runs = sweep.resolve(plan)
    started = []

    class Refused:  # what would start a run: recorded, never started
        def __init__(self, command, **kwargs):
            started.append(command[command.index("--workdir") + 1])
            self.pid, self.returncode = -1, 1

        def wait(self):
            return self.returncode

    monkeypatch.setattr(sweep.subprocess, "Popen", Refused)
    monkeypatch.setattr(sweep.os, "sched_setaffinity", lambda *a: None, raising=False)
    stream = io.StringIO()
    every = {(r.name, r.config_hash) for r in runs}
    assert sweep.execute(runs, tmp_path / "a", 1, stream, elsewhere=every) == []
    assert "4 runs, 4 finished (4 of them in the --merge files), 0 to run" in stream.getvalue()
    assert started == []
    # a run of that name but another config is not the merged one: it runs
    stale = {(r.name, r.config_hash if r.seed == 0 else "another") for r in runs}
    failed = sweep.execute(runs, tmp_path / "b", 1, io.StringIO(), elsewhere=stale)
    assert sorted(Path(w).name for w in started) == sorted(r.name for r in runs if r.seed == 1)
    assert [r.seed for r in failed] == [1, 1]


def test_a_run_that_outlives_its_sweep_keeps_its_draw(tmp_path, monkeypatch):
    """sweep.json is written before a run starts: a run that finishes after its
    sweep was killed still tables as its draw. A finished run that has none (a
    sweep killed before that rule) is given one, without a wall time, and is not
    run again."""
    plan = sweep.plan(["source_only"], [("synth_emodb", "synth_emovo")], [0], TINY,
                      search=2, search_overrides=["train.eval_every=2"])  # fmt: skip
    runs = sweep.resolve(plan)
    seen = {}

    class Finishes:  # a run that reads its sweep.json at its start and finishes
        def __init__(self, command, **kwargs):
            workdir = Path(command[command.index("--workdir") + 1])
            seen[workdir.name] = json.loads((workdir / "sweep.json").read_text())
            run = next(r for r in runs if r.name == workdir.name)
            (workdir / "results.json").write_text(json.dumps({"config_hash": run.config_hash}))
            self.pid, self.returncode = -1, 0

        def wait(self):
            return self.returncode

    monkeypatch.setattr(sweep.subprocess, "Popen", Finishes)
    monkeypatch.setattr(sweep.os, "sched_setaffinity", lambda *a: None, raising=False)
    monkeypatch.setattr(
        sweep.run_folder,
        "read_results",
        lambda w: json.loads((Path(w) / "results.json").read_text()) | {"uar": 0.5},
    )
    out = tmp_path / "search"
    # draw 1 finished under a sweep that was killed before it could write sweep.json
    lost = next(r for r in runs if r.draw == 1)
    (out / lost.name).mkdir(parents=True)
    (out / lost.name / "results.json").write_text(json.dumps({"config_hash": lost.config_hash}))
    stream = io.StringIO()
    assert sweep.execute(runs, out, 1, stream) == []
    assert "2 runs, 1 finished, 1 to run" in stream.getvalue()
    (started,) = [r for r in runs if r.draw == 0]
    assert list(seen) == [started.name]  # the finished draw 1 did not run again
    assert seen[started.name]["draw"] == 0 and "wall_s" not in seen[started.name]
    after = json.loads((out / started.name / "sweep.json").read_text())
    assert after["draw"] == 0 and after["wall_s"] >= 0
    healed = json.loads((out / lost.name / "sweep.json").read_text())
    assert healed["draw"] == 1 and healed["config_hash"] == lost.config_hash
    assert healed["setting"] == ", ".join(lost.setting) and "wall_s" not in healed


def test_a_drawn_value_a_set_overrides_is_tabled_as_it_ran():
    """A search with `--set terms.adv.weight=0` (MSAC's LOSO) runs every draw
    without the corpus reversal: the tables' setting says so, with the value drawn."""
    runs = sweep.plan(["msac"], [("synth_emovo", "synth_emovo")], [0], ["terms.adv.weight=0"],
                      folds=[0], search=8)  # fmt: skip
    drawn = [r for r in runs if any(s.startswith("terms.adv.weight=") for s in r.setting)]
    assert drawn  # MSAC's space draws the weight
    run = drawn[0]
    weight = next(s for s in run.setting if s.startswith("terms.adv.weight="))
    assert weight != "terms.adv.weight=0"
    meta = {"setting": ", ".join(run.setting), "overrides": run.all_overrides()}
    ran = report.ran_setting(meta["setting"], meta["overrides"])
    assert f"terms.adv.weight=0 (drawn {weight.split('=', 1)[1]})" in ran.split(", ")
    others = [s for s in run.setting if s != weight]
    assert [p for p in ran.split(", ") if "(drawn" not in p] == others  # the rest as drawn
    assert report.ran_setting("defaults", meta["overrides"]) == "defaults"
    unset = [o for o in run.all_overrides() if o != "terms.adv.weight=0"]
    assert report.ran_setting(meta["setting"], unset) == meta["setting"]
    # a --set to the value drawn changes nothing: 0.0 drawn, 0 set
    assert report.ran_setting("terms.adv.weight=0.0, a=x", ["terms.adv.weight=0"]) == (
        "terms.adv.weight=0.0, a=x"
    )
