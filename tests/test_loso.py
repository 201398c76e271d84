"""The single-corpus protocol (data.protocol="loso"): folds are speaker-independent
for every adapter, a fold's run never trains on its speakers, bad folds fail
naming the folds, and the sweep runs every fold into one table cell."""

import json

import fakes
import numpy as np
import pytest
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, sweep
from jaxser.data import corpora, tasks
from jaxser.evaluation import report

ADAPTERS = [
    "emodb",
    "casia",
    "enterface",
    "emovo",
    "iemocap",
    "msp_improv",
    "ravdess",
    "cremad",
    "savee",
]


@pytest.mark.parametrize("name", ADAPTERS)
def test_no_speaker_is_in_both_halves_of_any_fold(tmp_path, name):
    root = getattr(fakes, name)(tmp_path)
    speakers = [u.speaker for u in corpora.get(name).scan(root).utterances]
    folds = tasks.loso_folds(name, speakers)
    assert 1 <= len(folds) <= tasks.MAX_FOLDS
    flat = [s for f in folds for s in f]
    assert sorted(flat) == sorted(set(speakers))  # each speaker in exactly one fold
    for fold in folds:
        train = {s for s in speakers if s not in fold}
        assert fold and not train & set(fold)


def test_folds_by_session_speaker_and_round_robin():
    ses = ["Ses01F", "Ses01M", "Ses02F", "Ses02M"]
    assert tasks.loso_folds("iemocap", ses) == [("Ses01F", "Ses01M"), ("Ses02F", "Ses02M")]
    assert tasks.loso_folds("msp_improv", ["F01", "M01", "F02"]) == [("F01", "M01"), ("F02",)]
    assert tasks.loso_folds("emodb", ["03", "08", "03"]) == [("03",), ("08",)]
    many = [f"s{i:02d}" for i in range(24)]
    folds = tasks.loso_folds("cremad", many)
    assert len(folds) == 10 and folds[0] == ("s00", "s10", "s20") and folds[9] == ("s09", "s19")


def test_a_fold_run_tests_on_its_speakers_only(small_data_dir, tmp_path):
    config = tiny_config(
        "source_only", small_data_dir, "data.protocol=loso", "data.fold=1", "data.target="
    )
    exp = experiment.setup(config)
    d = exp.data
    (fold,) = [s for s in d.target_test.speakers]  # synth_emodb: one speaker per fold
    assert fold not in d.source.speakers and len(d.source.speakers) == 9
    assert d.target_adapt is d.target_test and d.task.target == "synth_emodb"
    assert len(d.source) + len(d.target_test) == 210  # every utterance (7 emotions) once
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert (r["protocol"], r["fold"], r["target"]) == ("loso", 1, "synth_emodb")


def test_bad_fold_and_target_fail_before_any_work(small_data_dir, tmp_path):
    config = tiny_config("source_only", small_data_dir, "data.protocol=loso", "data.fold=10")
    with pytest.raises(config_lib.ConfigError, match="loso trains and tests on one corpus"):
        experiment.train(config, tmp_path / "run", progress=False)
    config = tiny_config(
        "source_only", small_data_dir, "data.protocol=loso", "data.fold=10", "data.target="
    )
    with pytest.raises(config_lib.ConfigError, match=r"data.fold=10 is out of range: .* 10 folds"):
        experiment.train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_sweep_plans_one_run_per_fold_and_reports_mean_over_folds(tmp_path):
    runs = sweep.plan(["source_only"], [("synth_emodb", "synth_emodb")], [0], folds=[0, 1, 2])
    runs = sweep.resolve(runs)
    assert [r.name[: -sweep.KEY_CHARS - 1] for r in runs] == [
        f"source_only-synth_emodb-synth_emodb-fold{k}-seed0" for k in range(3)
    ]
    assert len({r.key for r in runs}) == 3  # each fold its own run
    assert "data.protocol=loso" in runs[1].all_overrides()
    assert "data.fold=1" in runs[1].all_overrides()
    assert sweep.folds_of("0-2,5") == [0, 1, 2, 5]
    # the report: one cell per (method, corpus), mean +- std over the folds
    uars = {"source_only": [0.5, 0.6, 0.7], "msac": [0.6, 0.8, 0.7]}
    for method, values in uars.items():
        for fold, uar in enumerate(values):
            d = tmp_path / f"{method}-f{fold}"
            d.mkdir()
            r = dict(method=method, source="synth_emodb", target="synth_emodb")
            r |= dict(protocol="loso", fold=fold, seed=0, uar=uar, war=uar, macro_f1=uar)
            r |= dict(pred_balance=1.0, steps=300, label_space="categorical")
            (d / "results.json").write_text(json.dumps(r))
    (g,) = report.groups(report.collect(tmp_path).rows)
    assert g.tasks == ["synth_emodb (loso)"]
    np.testing.assert_allclose(g.cell_mean("msac", "synth_emodb (loso)"), 0.7)
    a = g.against("msac", "source_only")
    assert a["pairs"] == 3 and a["won"] == 1
    assert "0.700 +- 0.100" in report.markdown([g])
