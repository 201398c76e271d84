"""Model-selection rules over a search (jaxser/evaluation/model_selection.py), the
source validation split and its scores (iwcv, dev)."""

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, sweep
from jaxser.config import ConfigError
from jaxser.data import pipeline, tasks
from jaxser.evaluation import model_selection as ms
from jaxser.evaluation import report, selection

STEPS = (50, 100, 150)


def _score_rows(rng, draw, seed):
    """Eval rows of one run: target UAR and every rule's score, random but seeded."""
    rows = []
    for step in STEPS:
        rows.append({
            "step": step, "kind": "eval", "uar": float(rng.uniform(0.3, 0.7)),
            "war": float(rng.uniform(0.3, 0.7)), "macro_f1": 0.4,
            "pred_balance": float(rng.uniform(0.5, 1.0)),
            "label_free/im": float(rng.uniform()), "label_free/snd": float(rng.uniform()),
            "label_free/entropy": float(rng.uniform()), "validation/uar": float(rng.uniform()),
            "validation/dev": float(rng.uniform()), "validation/iwcv": float(rng.uniform()),
        })  # fmt: skip
    return rows


def fake_search(out: Path, methods=("source_only", "dann"), tasks_=("a -> b", "b -> a"),
                seeds=(0, 1), draws=4, machine=None) -> dict:  # fmt: skip
    """Search run folders as the sweep writes them (`machine`: what their results.json
    says they ran on; None: nothing, as runs saved before it was recorded); returns
    {folder: eval rows}."""
    written = {}
    rng = np.random.default_rng(0)
    for method in methods:
        for task in tasks_:
            source, target = task.split(" -> ")
            for draw in range(draws):
                for seed in seeds:
                    d = out / f"{method}-{source}-{target}-draw{draw}-seed{seed}"
                    d.mkdir(parents=True)
                    rows = _score_rows(rng, draw, seed)
                    last = rows[-1]
                    results = {
                        **{k: last[k] for k in ("uar", "war", "macro_f1", "pred_balance")},
                        "method": method, "source": source, "target": target,
                        "label_space": "categorical", "seed": seed, "steps": STEPS[-1],
                        "protocol": "transductive", "selection": "last",
                        "config_hash": f"{method}{draw}",
                    }  # fmt: skip
                    if machine is not None:
                        results["runtime"] = {"machine": machine, "platform": "cpu"}
                    (d / "results.json").write_text(json.dumps(results))
                    meta = {"method": method, "wall_s": 10.0, "draw": draw,
                            "setting": "defaults" if draw == 0 else f"x={draw}"}  # fmt: skip
                    (d / "sweep.json").write_text(json.dumps(meta))
                    train = {"step": STEPS[-1], "kind": "train", "loss": 1.0}
                    text = "".join(json.dumps(r) + "\n" for r in [*rows, train])
                    (d / "metrics.jsonl").write_text(text)
                    written[d.name] = rows
    return written


def test_each_rule_picks_its_best_step_and_reports_that_steps_own_figures(tmp_path):
    written = fake_search(tmp_path)
    cands, bad = ms.candidates(tmp_path)
    assert not bad and len(cands) == 2 * 2 * 4 * 2 * len(STEPS)
    for rule, spec in ms.RULES.items():
        picked = ms.chosen_rows(rule, cands)
        assert len(picked) == 2 * 2 * 2  # one per (method, task, seed)
        for row, c in picked:
            source, target = row.task.split(" -> ")
            mine = {  # (draw, step) -> eval row of this cell
                (d, r["step"]): r
                for d in range(4)
                for r in written[f"{row.method}-{source}-{target}-draw{d}-seed{row.seed}"]
            }
            if spec is None:  # last: draw 0 at its last step
                assert (c.draw, c.step) == (0, STEPS[-1])
            else:
                key, sign = spec
                best = max(mine, key=lambda k: sign * mine[k][key])
                assert (c.draw, c.step) == best, rule
            assert row.uar == mine[c.draw, c.step]["uar"]  # never an interpolation
            assert row.selection == rule and row.steps == c.step
            assert row.wall_s == 10.0
    oracle = ms.chosen_rows("oracle", cands)
    for rule in ms.RULES:  # no rule beats the oracle on any cell
        for (row, _), (best, _) in zip(ms.chosen_rows(rule, cands), oracle, strict=True):
            assert row.uar <= best.uar


def test_rank_correlation_is_scipys_spearman_mean_over_cells(tmp_path):
    written = fake_search(tmp_path, methods=("dann",), tasks_=("a -> b",), seeds=(0,))
    cands, _ = ms.candidates(tmp_path)
    rows = [r for rs in written.values() for r in rs]
    rho = stats.spearmanr([-r["validation/dev"] for r in rows], [r["uar"] for r in rows])
    assert ms.rank_correlation("dev", cands)["dann"] == pytest.approx(rho.statistic)
    assert ms.rank_correlation("oracle", cands)["all"] == pytest.approx(1.0)
    assert ms.rank_correlation("last", cands) == {}
    last = [r for rs in written.values() for r in rs if r["step"] == STEPS[-1]]
    rho = stats.spearmanr([r["label_free/im"] for r in last], [r["uar"] for r in last])
    got = ms.rank_correlation("im", cands, last_only=True)["dann"]
    assert got == pytest.approx(rho.statistic)


def test_frozen_setting_is_the_best_mean_rank_over_cells(tmp_path):
    written = fake_search(tmp_path, methods=("dann",))
    cands, _ = ms.candidates(tmp_path)
    ranks = {d: [] for d in range(4)}
    for task in ("a-b", "b-a"):
        for seed in (0, 1):
            last = {d: written[f"dann-{task}-draw{d}-seed{seed}"][-1]["uar"] for d in range(4)}
            for rank, d in enumerate(sorted(last, key=lambda d: -last[d])):
                ranks[d].append(rank)
    want = min(ranks, key=lambda d: (np.mean(ranks[d]), d))
    draw, setting, uar = ms.frozen("oracle", cands)["categorical", "transductive", "dann"]
    assert draw == want and setting == ("defaults" if want == 0 else f"x={want}")
    assert ms.frozen("last", cands)["categorical", "transductive", "dann"][0] == 0


def test_each_label_space_freezes_its_own_draw(tmp_path):
    """The same method in two label spaces: each is frozen on its own cells, so a
    draw that wins only in one is never frozen for the other."""
    fake_search(tmp_path, methods=("dann",))
    cands, _ = ms.candidates(tmp_path)
    flipped = [  # a second label space whose UAR ranks the draws the other way round
        dataclasses.replace(
            c,
            row=dataclasses.replace(c.row, label_space="arousal", run=c.row.run + "-a"),
            scores=c.scores | {"uar": 1.0 - c.scores["uar"]},
        )
        for c in cands
    ]
    fz = ms.frozen("oracle", cands + flipped)
    assert set(fz) == {("categorical", "transductive", "dann"), ("arousal", "transductive", "dann")}
    assert (
        fz["categorical", "transductive", "dann"]
        == ms.frozen("oracle", cands)["categorical", "transductive", "dann"]
    )
    assert (
        fz["arousal", "transductive", "dann"]
        == ms.frozen("oracle", flipped)["arousal", "transductive", "dann"]
    )
    assert fz["arousal", "transductive", "dann"][0] != fz["categorical", "transductive", "dann"][0]


def test_search_md_has_a_table_per_rule_with_the_oracle_marked(tmp_path):
    fake_search(tmp_path)
    text = ms.write(tmp_path)
    assert (tmp_path / "search.md").read_text() == text
    for rule in ms.RULES:
        assert f"## Rule `{rule}`" in text
    assert "## Rule `oracle` (upper bound, reads target labels)" in text
    assert "Model selection: oracle, the best target UAR of the search: reads target labels" in text
    assert "## Rank correlation with target UAR" in text and "| dev |" in text
    assert "32 runs, 0.09 h of run wall time in all" in text
    cands, _ = ms.candidates(tmp_path)
    line = next(
        x for x in text.splitlines() if x.startswith("| categorical, transductive | dann |")
    )
    means = [float(v) for v in line.split("|")[3:-1]]
    for rule, mean in zip(ms.RULES, means, strict=True):
        rows = [r for r, _ in ms.chosen_rows(rule, cands) if r.method == "dann"]
        per_task = [np.mean([r.uar for r in rows if r.task == t]) for t in ("a -> b", "b -> a")]
        assert mean == pytest.approx(np.mean(per_task), abs=6e-4)
    assert means[-1] == max(means)  # the oracle is the ceiling
    assert ms.has_search(tmp_path)


def test_source_validation_holds_out_whole_speakers_the_same_for_every_run():
    speakers = np.array(["a"] * 10 + ["b"] * 30 + ["c"] * 20 + ["d"] * 40)
    held = tasks.validation_speakers(speakers, 0.2)
    assert held == tasks.validation_speakers(speakers, 0.2)  # no seed of the run in it
    share = np.isin(speakers, held).mean()
    assert share >= 0.2 and len(held) < 4
    assert len(tasks.validation_speakers(speakers, 0.99)) == 3  # never every speaker
    with pytest.raises(ConfigError, match="needs 2 or more"):
        tasks.validation_speakers(np.array(["a", "a"]), 0.2)


def test_source_val_split_is_disjoint_from_training_and_validated_every_evaluation(
    small_data_dir, tmp_path
):
    config = tiny_config("dann", small_data_dir, "data.source_val=0.3", "train.eval_every=2")
    full = tiny_config("dann", small_data_dir)
    data = pipeline.load_task(tasks.from_config(config), small_data_dir)
    whole = pipeline.load_task(tasks.from_config(full), small_data_dir)
    assert not set(data.source.speakers) & set(data.source_val.speakers)
    assert set(data.source.speakers) | set(data.source_val.speakers) == set(whole.source.speakers)
    assert sorted([*data.source.utt_id, *data.source_val.utt_id]) == sorted(whole.source.utt_id)
    assert len(data.target_test) == len(whole.target_test)
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert r["source_val"]["speakers"] == list(data.source_val.speakers)
    evals = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    evals = [e for e in evals if e["kind"] == "eval"]
    assert [e["step"] for e in evals] == [2, 4]
    for e in evals:
        assert {"validation/uar", "validation/dev", "validation/iwcv"} <= set(e)
    assert r["validation"]["uar"] == evals[-1]["validation/uar"]


def test_source_free_runs_refuse_a_source_validation_split(tmp_path):
    with pytest.raises(ConfigError, match="adapts without the source corpus"):
        experiment.check(tiny_config("shot", tmp_path, "data.source_val=0.2"))
    with pytest.raises(ConfigError, match=r"must be in \[0, 1\)"):
        experiment.check(tiny_config("dann", tmp_path, "data.source_val=1.0"))


def test_iwcv_and_dev_against_their_formulas_and_weights_against_a_known_ratio():
    rng = np.random.default_rng(0)
    w, loss = rng.uniform(0.1, 3, 50), rng.uniform(0, 2, 50)
    assert selection.iwcv(w, loss) == pytest.approx(np.mean(w * loss))
    eta = -np.cov(w * loss, w)[0, 1] / np.var(w, ddof=1)
    assert selection.dev(w, loss) == pytest.approx(np.mean(w * loss) + eta * np.mean(w) - eta)
    # constant weights: DEV is the plain mean loss
    assert selection.dev(np.ones(50), loss) == pytest.approx(loss.mean())
    # source N(0, 1), target N(1, 1) in 1-D: the ratio is exp(x - 1/2)
    src, tgt = rng.normal(0, 1, (4000, 1)), rng.normal(1, 1, (4000, 1))
    val = np.array([[-1.0], [0.0], [0.5], [1.0], [2.0]])
    got = selection.importance_weights(src, tgt, val)
    np.testing.assert_allclose(np.log(got), val[:, 0] - 0.5, atol=0.15)


def test_the_sweep_tables_a_search_in_search_md(tmp_path):
    fake_search(tmp_path)
    sweep.main(["--report", str(tmp_path)])  # returns nothing: what it wrote is checked
    text = (tmp_path / "search.md").read_text()
    assert "Draws per method: dann 4, source_only 4." in text
    assert text == ms.markdown(ms.candidates(tmp_path)[0]) + "\n" + ms.marginals(
        ms.candidates(tmp_path)[0]
    )
    results = (tmp_path / "results.md").read_text()  # draw 0 only
    assert "24 runs of search draws other than 0" in results
    cfg = config_lib.load("configs/dann.py")
    assert cfg.data.source_val == 0.0  # a plain run holds nothing out


def _with_configs(out: Path) -> None:
    """Gives fake_search's folders the config.json a run writes, with its draw's
    learning rate (the setting names it), so the marginals have values to read."""
    from jaxser import run_folder

    for d in out.iterdir():
        meta = json.loads((d / "sweep.json").read_text())
        results = json.loads((d / "results.json").read_text())
        cfg = config_lib.load("configs/dann.py")
        lr = 0.001 * (meta["draw"] + 1)
        cfg.train.learning_rate, cfg.seed = lr, results["seed"]
        cfg.data.source, cfg.data.target = results["source"], results["target"]
        (d / "config.json").write_text(json.dumps(cfg.to_dict()))
        results["config_hash"] = run_folder.config_hash(cfg)
        (d / "results.json").write_text(json.dumps(results))
        if meta["draw"]:
            meta["setting"] = f"train.learning_rate={lr}"
            (d / "sweep.json").write_text(json.dumps(meta))


def test_a_search_run_in_parts_reports_as_one(tmp_path):
    """Seed 0 in one folder, seed 1 in another: the second's report with the first's
    candidates.jsonl.gz merged tables what one folder of both tables; the same
    file merged twice, or a run present in both, counts once."""
    import shutil

    whole, part0, part1 = tmp_path / "whole", tmp_path / "part0", tmp_path / "part1"
    fake_search(whole)
    _with_configs(whole)
    for d in whole.iterdir():
        shutil.copytree(d, (part0 if d.name.endswith("seed0") else part1) / d.name)
    sweep.main(["--report", str(whole)])
    sweep.main(["--report", str(part0)])
    merged = part0 / ms.CANDIDATES
    sweep.main(["--report", str(part1), "--merge", str(merged), "--merge", str(merged)])
    expect = (whole / "search.md").read_text()
    got = (part1 / "search.md").read_text()
    assert got.split("\nWith the candidates of earlier searches")[0] == expect
    assert f"- {merged}\n" in got
    again = part0 / "again.jsonl.gz"  # a file of the same candidates is the same bytes
    ms.save(again, ms.load(merged))
    assert again.read_bytes() == merged.read_bytes()
    assert "train.learning_rate | 0.001: " in expect  # the values travelled in the file
    # the merged file holds both parts: tabling it alone gives the same tables again
    alone = tmp_path / "alone"
    alone.mkdir()
    sweep.main(["--report", str(alone), "--merge", str(part1 / ms.CANDIDATES)])
    assert (alone / "search.md").read_text().split("\nWith the")[0] == expect
    # a run in the folder and in a merged file is one run
    sweep.main(["--report", str(whole), "--merge", str(part1 / ms.CANDIDATES)])
    assert (whole / "search.md").read_text().split("\nWith the")[0] == expect


def test_a_run_given_twice_with_other_figures_is_tabled_once_and_named(tmp_path):
    """The same run folder in two candidates files, from two machines with other
    figures (a test task's frozen run again on a new machine): the first given
    is tabled whole, none of the later copy's steps mixed in, and the copy is
    named with both machines; an identical copy is no note."""
    a = tmp_path / "a"
    fake_search(a, methods=("dann",), seeds=(0,), draws=2)
    sweep.main(["--report", str(a)])
    mine = ms.load(a / ms.CANDIDATES)
    moved = [
        dataclasses.replace(
            c,
            row=dataclasses.replace(c.row, machine="another", uar=c.row.uar + 0.1),
            scores=c.scores | {"uar": c.scores["uar"] + 0.1},
        )
        for c in mine
    ]
    one = [c for c in mine if c.row.run == mine[0].row.run]
    # the later copy has a step the first lacks: mixing by step would table it
    extra = dataclasses.replace(moved[0], step=one[-1].step + 1, last=False)
    cands, notes = ms.combine(one, [*moved, extra])
    assert extra not in cands
    assert [c.scores for c in cands if c.row.run == one[0].row.run] == [c.scores for c in one]
    assert len(cands) == len(mine)  # the other runs come from the second group
    assert len(notes) == 1 and notes[0].startswith(one[0].row.run)
    assert f"UAR {one[0].row.uar:.3f} on " in notes[0]
    assert f"again: UAR {one[0].row.uar + 0.1:.3f} on another" in notes[0]
    assert ms.combine(mine, mine) == (mine, [])
    b = tmp_path / "b.jsonl.gz"
    ms.save(b, moved)
    text = ms.write(a, merge=[b])
    assert "Run folders left out (of a run given twice: the later copy):" in text
    assert text.count("given twice with other figures") == len({c.row.run for c in mine})


def test_merging_refuses_damaged_files_and_clashing_runs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    fake_search(a, methods=("dann",), seeds=(0,), draws=2)
    fake_search(b, methods=("dann",), seeds=(0,), draws=2)
    for d in b.iterdir():  # the same cells, another config: not one run twice
        d.rename(b / (d.name + "-other"))
        r = json.loads((b / (d.name + "-other") / "results.json").read_text())
        (b / (d.name + "-other") / "results.json").write_text(
            json.dumps(r | {"config_hash": "another"})
        )
    sweep.main(["--report", str(a)])
    text = ms.write(b, merge=[a / ms.CANDIDATES])
    assert text.startswith("no finished search run")  # every cell clashes: none tabled
    assert "in runs of different configs; none tabled" in text
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(SystemExit, match="cannot be read as a search's candidates"):
        sweep.main(["--report", str(a), "--merge", str(bad)])
    with pytest.raises(SystemExit):  # argparse: no such file
        sweep.main(["--report", str(a), "--merge", str(tmp_path / "none.jsonl.gz")])


def test_choosing_per_task_is_compared_with_the_configs_own_setting(tmp_path):
    """search.md's paired comparison of each rule's per-task pick with `last`
    (draw 0 at its last step): tasks won, means and scipy's Wilcoxon p."""
    written = fake_search(tmp_path, methods=("dann",), seeds=(0, 1, 2))
    cands, _ = ms.candidates(tmp_path)
    text = ms.markdown(cands).split("## Choosing per task against one setting")[1]
    text = text.split("\n## ")[0]
    im, last = {}, {}
    for task in ("a -> b", "b -> a"):
        source, target = task.split(" -> ")
        for seed in (0, 1, 2):
            runs = [written[f"dann-{source}-{target}-draw{d}-seed{seed}"] for d in range(4)]
            best = max((r for rs in runs for r in rs), key=lambda r: r["label_free/im"])
            im[task, seed], last[task, seed] = best["uar"], runs[0][-1]["uar"]
    diff = [im[k] - last[k] for k in sorted(im)]
    won = sum(
        np.mean([im[t, s] for s in (0, 1, 2)]) > np.mean([last[t, s] for s in (0, 1, 2)])
        for t in ("a -> b", "b -> a")
    )
    p = stats.wilcoxon(diff).pvalue
    mean_im, mean_last = np.mean(list(im.values())), np.mean(list(last.values()))
    expect = (
        f"| categorical, transductive | dann | `im` | {won}/2 | {mean_im:.3f} | {mean_last:.3f} "
        f"| {mean_im - mean_last:+.3f} | {p:.3g} (6) |"
    )
    assert expect in text
    assert "| dann | `oracle` (ceiling) |" in text and "| dann | `last` |" not in text


def test_a_search_merged_from_two_machines_names_each_and_warns(tmp_path):
    """Runs record their machine; one machine's search names it, a merge of two
    machines' parts names each with its methods and says to compare within one,
    and candidates saved before machines were recorded read as "not recorded"."""
    a, b = tmp_path / "a", tmp_path / "b"
    fake_search(a, methods=("dann",), seeds=(0,), draws=2, machine="CPU A, 2 CPUs, AVX-512")
    fake_search(b, methods=("source_only",), seeds=(0,), draws=2, machine="CPU B, 4 CPUs, AVX2")
    one = ms.write(a)
    assert "Machine: CPU A, 2 CPUs, AVX-512." in one and "machines**" not in one
    assert {c.row.machine for c in ms.load(a / ms.CANDIDATES)} == {"CPU A, 2 CPUs, AVX-512"}
    both = ms.write(b, merge=[a / ms.CANDIDATES])
    warning = (
        "**Runs from 2 machines** (CPU A, 2 CPUs, AVX-512: dann (4 runs); "
        "CPU B, 4 CPUs, AVX2: source_only (4 runs)): the same command gives other "
        "numbers on another machine, so compare methods within one machine's runs."
    )
    assert both.count(warning) == 1  # the search's line: every run of the search
    # each rule's table: the runs it chose, one per (method, task, seed)
    assert both.count(warning.replace("(4 runs)", "(2 runs)")) == len(ms.RULES)
    # a file from before runs recorded their machine
    old = tmp_path / "old"
    fake_search(old, methods=("dann",), seeds=(0,), draws=2)
    assert "Machine: not recorded." in ms.write(old)
    rows = report.collect(b).rows
    assert report.csv_text(rows).splitlines()[1].endswith(',"CPU B, 4 CPUs, AVX2"')


def test_a_tiny_search_end_to_end(small_data_dir, tmp_path):
    """`--search 2` runs: draw folders, their settings, validation at every
    evaluation, and search.md whose `oracle` pick is the best logged UAR."""
    import subprocess
    import sys

    from tiny import TINY

    out = tmp_path / "search"
    # --search_seed 1: under seed 0, draw 1 is dann's frozen categorical setting, which
    # draw 0 already runs (a frozen draw runs once)
    tiny = [o for o in TINY if not o.startswith("train.eval_every=")]  # the search's own
    sets = [a for o in [*tiny, f"data.data_dir={small_data_dir}"] for a in ("--set", o)]
    r = subprocess.run(
        [sys.executable, "-m", "jaxser.sweep", "--methods", "dann", "--tasks",
         "synth_emodb:synth_casia", "--seeds", "0", "--search", "2", "--search_seed", "1",
         "--eval_every", "2",
         "--source_val", "0.3", "--jobs", "2", "--out", str(out), *sets],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    folders = sorted(d.name for d in out.iterdir() if d.is_dir())
    assert [f.rsplit("-", 1)[0] for f in folders] == [
        f"dann-synth_emodb-synth_casia-draw{k}-seed0" for k in (0, 1)
    ]
    meta = json.loads((out / folders[1] / "sweep.json").read_text())
    assert meta["draw"] == 1 and "terms.adv.weight=" in meta["setting"]
    saved = json.loads((out / folders[1] / "config.json").read_text())
    assert saved["data"]["source_val"] == 0.3 and saved["train"]["eval_every"] == 2
    cands, bad = ms.candidates(out)
    assert not bad and len(cands) == 2 * 2  # 2 runs, evaluated at steps 2 and 4
    assert all("validation/dev" in c.scores for c in cands)
    full = (out / "search.md").read_text()
    # every searched key's values, draw 0's defaults read from its config.json
    assert re.search(r"\| dann \| terms\.adv\.weight \| .*1\.0: 0\.\d{3} \(\d\)", full)
    text = full.split("## Rule `oracle`")[1].split("\n## ")[0]
    best = max((c for c in cands if c.row.method == "dann"), key=lambda c: c.scores["uar"])
    assert f"| dann | synth_emodb -> synth_casia | 0 | {best.draw} | {best.step} |" in text
    # the same search elsewhere, its run folders gone but its candidates kept: nothing
    # runs again (a run's candidates carry the config hash the sweep plans), same tables
    again = tmp_path / "again"
    r = subprocess.run(
        [sys.executable, "-m", "jaxser.sweep", "--methods", "dann", "--tasks",
         "synth_emodb:synth_casia", "--seeds", "0", "--search", "2", "--search_seed", "1",
         "--eval_every", "2",
         "--source_val", "0.3", "--out", str(again), "--merge", str(out / ms.CANDIDATES),
         *sets],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "2 runs, 2 finished (2 of them in the --merge files), 0 to run" in r.stderr
    assert not [d for d in again.iterdir() if d.is_dir()]
    merged = (again / "search.md").read_text().split("\nWith the candidates of earlier")[0]
    assert merged == full.split("\nWith the candidates of earlier")[0]


def test_the_kept_search_lists_each_method_under_its_own_protocol_only():
    """docs/searches' file (source-free and transductive methods in one search):
    the summary has no row of a method under a protocol it did not run, and a
    table without source_only does not say it is compared with it."""
    cands = ms.load(Path("docs/searches/dev-emodb-emovo-seed0-2026-12-03.jsonl.gz"))
    text = ms.markdown(cands)
    summary = text.split("\n## ")[0]  # the first section
    rows = [line for line in summary.splitlines() if line.startswith("| categorical")]
    assert len(rows) == 7  # 4 source-free methods + 3 transductive ones
    assert not any(line.endswith("| - | - | - | - | - | - | - | - |") for line in rows)
    assert "| categorical, source_free | ecan | 0.612 |" in summary
    assert "Machine: AMD EPYC, 2 CPUs, AVX-512." in summary  # what its README names
    source_free = text.split("### categorical, source_free")[1].split("### ")[0]
    assert "Against source_only" not in source_free
    transductive = text.split("### categorical, transductive")[1].split("### ")[0]
    assert "Against source_only: tasks won" in transductive


def _runs_pick(runs: list[list[dict]], rule: str) -> dict:
    """By hand: the eval row a rule picks among the draws at their last step
    (`runs`: each draw's eval rows; `last`: draw 0's)."""
    if rule == "last":
        return runs[0][-1]
    key, sign = ms.RULES[rule]
    return max((rs[-1] for rs in runs), key=lambda r: sign * r[key])


def test_each_method_gets_the_label_free_rule_that_ranked_its_development_runs_best(tmp_path):
    """best_label_free: per method, the rule of LABEL_FREE with the highest rank
    correlation over the draws at their last step (scipy's, mean over cells) on
    the development search; `last` where every rule ranks worse than chance."""
    fake_search(tmp_path, seeds=(0,))
    cands, _ = ms.candidates(tmp_path)
    assert set(ms.LABEL_FREE) == {"source-val", "dev", "iwcv", "im", "snd", "entropy"}
    got = ms.best_label_free(cands)
    for method in ("source_only", "dann"):
        rhos = {rule: ms.rank_correlation(rule, cands, last_only=True)[method]
                for rule in ms.LABEL_FREE}  # fmt: skip
        best = max(rhos, key=rhos.get)
        rule, rho = got["categorical", "transductive", method]
        assert rho == pytest.approx(rhos[best])
        assert rule == (best if rhos[best] > 0 else "last")
    # scores that rank every candidate against target UAR: no rule is used
    flipped = [
        dataclasses.replace(c, scores={**c.scores, **{ms.RULES[r][0]: ms.RULES[r][1] * -c.scores[
            "uar"] for r in ms.LABEL_FREE}}) for c in cands
    ]  # fmt: skip
    rule, rho = ms.best_label_free(flipped)["categorical", "transductive", "dann"]
    assert (rule, rho) == ("last", pytest.approx(-1.0))


def test_a_test_search_chooses_per_task_by_the_development_rule_and_never_on_its_own(tmp_path):
    """--rules_from: search.md compares, per method, the development search's best
    rule's per-task picks (among the draws at their last step) with `last`; a
    development search holding one of the tasks is refused, by write and by the
    sweep before any run."""
    dev_dir, test_dir = tmp_path / "dev", tmp_path / "test"
    fake_search(dev_dir, methods=("dann",), tasks_=("a -> o", "o -> a"))
    ms.write(dev_dir)
    dev_file = dev_dir / ms.CANDIDATES
    written = fake_search(test_dir, methods=("dann",), seeds=(0, 1, 2))
    chosen = ms.task_rules(ms.load(dev_file))["categorical", "transductive", "dann"]
    rule = chosen.rule
    text = ms.write(test_dir, rules_from=[dev_file])
    section = text.split("## Choosing per task by the development search's best label-free")[1]
    picks, last = {}, {}
    for task in ("a -> b", "b -> a"):
        source, target = task.split(" -> ")
        for seed in (0, 1, 2):
            runs = [written[f"dann-{source}-{target}-draw{d}-seed{seed}"] for d in range(4)]
            best = _runs_pick(runs, rule)
            picks[task, seed], last[task, seed] = best["uar"], runs[0][-1]["uar"]
    mean_pick, mean_last = np.mean(list(picks.values())), np.mean(list(last.values()))
    assert (
        f"| categorical, transductive | dann | `{chosen.ranked}` ({chosen.rho:+.2f}) | " in section
        and f" | `{rule}` | " in section
        and f"| {mean_pick:.3f} | {mean_last:.3f} | {mean_pick - mean_last:+.3f} |" in section
    )
    assert str(dev_file) in text.split("Rules per method from the development search")[1]

    with pytest.raises(ms.SharedTasks, match="a -> b"):  # its own tasks as development
        ms.write(test_dir, rules_from=[test_dir / ms.CANDIDATES])
    refused = tmp_path / "refused_report"
    refused.mkdir()
    with pytest.raises(SystemExit, match="judged on the labels"):  # --report: nothing written
        sweep.main(["--report", str(refused), "--merge", str(test_dir / ms.CANDIDATES),
                    "--rules_from", str(test_dir / ms.CANDIDATES)])  # fmt: skip
    assert list(refused.iterdir()) == []
    dev_of_real = tmp_path / "dev_real"
    fake_search(dev_of_real, methods=("dann",), tasks_=("synth_emodb -> synth_emovo",))
    ms.write(dev_of_real)
    out = tmp_path / "refused"
    with pytest.raises(SystemExit) as e:
        sweep.main(["--methods", "dann", "--tasks", "synth_emodb:synth_emovo", "--search", "2",
                    "--seeds", "0", "--out", str(out),
                    "--rules_from", str(dev_of_real / ms.CANDIDATES)])  # fmt: skip
    assert e.value.code == 2 and not out.exists()


def _scored_by(cands: list[ms.Candidate], score) -> list[ms.Candidate]:
    """Every label-free rule's score of each candidate set to rank as `score(c)` does."""
    return [
        dataclasses.replace(c, scores={**c.scores, **{
            ms.RULES[r][0]: ms.RULES[r][1] * score(c) for r in ms.LABEL_FREE}})
        for c in cands
    ]  # fmt: skip


def test_each_fold_of_a_loso_task_is_held_out_on_its_own(tmp_path):
    """held_out_comparisons: a one-task search has nothing to hold out, but its
    LOSO folds do: each fold's frozen draw is the best last-step UAR of the
    other fold (its one cell), scored on the held-out fold."""
    written = fake_search(tmp_path, methods=("dann",), tasks_=("a -> b",), seeds=(0, 1))
    cands, _ = ms.candidates(tmp_path)
    assert ms.held_out_comparisons(cands) == {}
    folds = [dataclasses.replace(c, row=dataclasses.replace(
        c.row, protocol="loso", fold=c.row.seed, seed=0)) for c in cands]  # fmt: skip
    got = ms.held_out_comparisons(folds)["categorical", "loso", "dann"][0]
    last = {(d, f): written[f"dann-a-b-draw{d}-seed{f}"][-1]["uar"] for d in range(4)
            for f in (0, 1)}  # fmt: skip
    fixed = [last[max(range(4), key=lambda d: last[d, 1 - f]), f] for f in (0, 1)]
    assert got["pairs"] == 2 and got["baseline_mean"] == pytest.approx(np.mean(fixed))


def test_a_rule_chooses_per_task_only_where_its_first_picks_paid_on_the_development_tasks(
    tmp_path,
):
    """task_rules: the best-ranking rule is kept where the development search, each
    task held out, gave its per-task picks a mean above the frozen setting's; a
    rule that ranks the draws well (rho 1/3) but puts each cell's worst draw first
    is replaced by `last`, and search.md says what it would have given."""
    fake_search(tmp_path / "dev", methods=("dann",), tasks_=("a -> o", "o -> a"), draws=8)
    cands, _ = ms.candidates(tmp_path / "dev")
    key = ("categorical", "transductive", "dann")
    worst = {cell: min(ms.runs_of(cs), key=lambda c: c.scores["uar"]).draw
             for cell, cs in ms.by_cell(cands).items()}  # fmt: skip
    honest = _scored_by(cands, lambda c: c.scores["uar"])
    misled = _scored_by(cands, lambda c: 2.0 if c.draw == worst[c.cell] else c.scores["uar"])
    good, bad = ms.task_rules(honest)[key], ms.task_rules(misled)[key]
    assert (good.rule, good.ranked, good.rho) == ("source-val", "source-val", pytest.approx(1.0))
    assert good.held["mean"] > good.held["baseline_mean"]
    assert (bad.ranked, bad.rho) == ("source-val", pytest.approx(1 / 3))
    assert bad.held["mean"] < bad.held["baseline_mean"] and bad.rule == "last"
    assert bad.held == ms.held_out_comparisons(misled)[key][0]

    ms.save(tmp_path / "misled.jsonl.gz", misled)
    written = fake_search(tmp_path / "test", methods=("dann",), seeds=(0, 1, 2))
    text = ms.write(tmp_path / "test", rules_from=[tmp_path / "misled.jsonl.gz"])
    section = text.split("## Choosing per task by the development search's best label-free")[1]
    held = f"{bad.held['mean'] - bad.held['baseline_mean']:+.3f} (p {bad.held['p']:.3g})"
    head = f"| categorical, transductive | dann | `source-val` (+0.33) | {held} |"
    table, beside = section.split("Not chosen by:")
    assert f"{head} `last` | 0/2 |" in table  # no choice: `last` against itself
    picks, last = [], []
    for source, target in (("a", "b"), ("b", "a")):
        for seed in (0, 1, 2):
            runs = [written[f"dann-{source}-{target}-draw{d}-seed{seed}"] for d in range(4)]
            picks.append(_runs_pick(runs, "source-val")["uar"])
            last.append(runs[0][-1]["uar"])
    assert f"{head} " in beside
    assert f"| {np.mean(picks):.3f} | {np.mean(last):.3f} |" in beside.split(head)[1]


def test_seed_methods_meet_their_papers_baselines_with_both_chosen_per_task(tmp_path):
    """Under the per-task choice section: Emo-DNA against DANN (PAPER_BASELINES),
    each method's pick by its own development rule, paired by (task, seed): tasks
    won, means and scipy's Wilcoxon p; no table when no seed method's baseline ran."""
    dev_dir, test_dir = tmp_path / "dev", tmp_path / "test"
    fake_search(dev_dir, methods=("emodna", "dann"), tasks_=("a -> o", "o -> a"))
    ms.write(dev_dir)
    dev_file = dev_dir / ms.CANDIDATES
    rules = ms.task_rules(ms.load(dev_file))
    written = fake_search(test_dir, methods=("emodna", "dann"), seeds=(0, 1, 2))
    picks = {}
    for method in ("emodna", "dann"):
        rule = rules["categorical", "transductive", method].rule
        for task in ("a -> b", "b -> a"):
            source, target = task.split(" -> ")
            for seed in (0, 1, 2):
                runs = [written[f"{method}-{source}-{target}-draw{d}-seed{seed}"]
                        for d in range(4)]  # fmt: skip
                picks[method, task, seed] = _runs_pick(runs, rule)["uar"]
    keys = [(t, s) for t in ("a -> b", "b -> a") for s in (0, 1, 2)]
    diff = [picks["emodna", *k] - picks["dann", *k] for k in keys]
    means = {m: np.mean([picks[m, *k] for k in keys]) for m in ("emodna", "dann")}
    won = sum(
        np.mean([picks["emodna", t, s] for s in (0, 1, 2)])
        > np.mean([picks["dann", t, s] for s in (0, 1, 2)])
        for t in ("a -> b", "b -> a")
    )
    text = ms.write(test_dir, rules_from=[dev_file])
    section = text.split("with both chosen per task")[1].split("\n## ")[0]
    assert (
        f"| emodna | dann | {won}/2 | {means['emodna']:.3f} | {means['dann']:.3f} "
        f"| {means['emodna'] - means['dann']:+.3f} | {stats.wilcoxon(diff).pvalue:.3g} (6) |"
    ) in section
    alone = tmp_path / "alone"
    fake_search(alone, methods=("dann",), seeds=(0, 1, 2))
    assert "with both chosen per task" not in ms.write(alone, rules_from=[dev_file])


def test_a_method_run_at_one_setting_is_not_tabled_as_chosen_per_task(tmp_path):
    """A method whose test runs hold one draw only (its search not run there) has
    nothing to choose among: no per-task line, no pairing with a seed method's
    choice, and a line naming it."""
    dev_dir, test_dir = tmp_path / "dev", tmp_path / "test"
    fake_search(dev_dir, methods=("emodna", "dann"), tasks_=("a -> o", "o -> a"))
    ms.write(dev_dir)
    fake_search(test_dir, methods=("emodna",), seeds=(0, 1, 2))
    fake_search(test_dir, methods=("dann",), seeds=(0, 1, 2), draws=1)
    text = ms.write(test_dir, rules_from=[dev_dir / ms.CANDIDATES])
    section = text.split("## Choosing per task by the development search's best label-free")[1]
    section = section.split("\n## ")[0]
    assert "| categorical, transductive | emodna | `" in section
    assert "| categorical, transductive | dann |" not in section
    assert "with both chosen per task" not in section
    assert "One setting only, nothing chosen per task" in section
    assert "dann (categorical, transductive)" in section


def test_each_development_task_held_out_is_chosen_for_without_its_labels(tmp_path):
    """held_out: per held-out task, the frozen draw (best mean oracle rank) and the
    rule come from the other task only; the line's means are those of the picks
    made on the held-out task; one task gives no section."""
    written = fake_search(tmp_path, methods=("dann",), seeds=(0, 1))
    cands, _ = ms.candidates(tmp_path)
    tasks_ = {"a -> b": "a-b", "b -> a": "b-a"}
    per_task, fixed = [], []
    for task, other in (("a -> b", "b -> a"), ("b -> a", "a -> b")):
        rest = [c for c in cands if c.row.task == other]
        last = {(d, s): written[f"dann-{tasks_[other]}-draw{d}-seed{s}"][-1]["uar"]
                for d in range(4) for s in (0, 1)}  # fmt: skip
        ranks = {d: [] for d in range(4)}
        for s in (0, 1):
            for rank, d in enumerate(sorted(range(4), key=lambda d: -last[d, s])):
                ranks[d].append(rank)
        draw = min(ranks, key=lambda d: (np.mean(ranks[d]), d))
        rule = ms.best_label_free(rest)["categorical", "transductive", "dann"][0]
        for s in (0, 1):
            runs = [written[f"dann-{tasks_[task]}-draw{d}-seed{s}"] for d in range(4)]
            per_task.append(_runs_pick(runs, rule)["uar"])
            fixed.append(runs[draw][-1]["uar"])
    line = [ln for ln in ms.held_out(cands).splitlines() if ln.startswith("| categorical")][0]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[:2] == ["categorical, transductive", "dann"]
    assert (cells[3], cells[4]) == (f"{np.mean(per_task):.3f}", f"{np.mean(fixed):.3f}")
    assert ms.held_out([c for c in cands if c.row.task == "a -> b"]) == ""  # one task
