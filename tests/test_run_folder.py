"""A run folder's files: read as data, damaged ones named, written atomically and by
the lead process only (jaxser/run_folder.py, jaxser/files.py)."""

import json

import pytest

from jaxser import config as config_lib
from jaxser import files, parallel, predict, run_folder
from jaxser.training import writers


def _config():
    return config_lib.load("configs/dann.py")


def test_damaged_files_are_named_with_what_to_do(tmp_path):
    config = _config()
    run_folder.claim(tmp_path, config)
    assert config_lib.diff(run_folder.read_config(tmp_path), config) == []
    text = (tmp_path / "config.json").read_text()
    (tmp_path / "config.json").write_text(text[: len(text) // 2])  # a kill cut it short
    with pytest.raises(files.DamagedFile, match=rf"{tmp_path / 'config.json'} is damaged"):
        run_folder.read_config(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(files.DamagedFile, match="is not a jaxser config"):
        run_folder.read_config(tmp_path)
    run_folder.write_normalization(tmp_path, {"synth_emodb": {"mean": [0.0], "std": [1.0]}})
    assert run_folder.read_normalization(tmp_path)["synth_emodb"]["std"] == [1.0]
    (tmp_path / "normalization.json").write_text('{"stats": {"synth_')
    with pytest.raises(files.DamagedFile, match=r"normalization.json is damaged.*training command"):
        run_folder.read_normalization(tmp_path)


def test_evaluate_names_a_damaged_config_in_one_line(tmp_path):
    from jaxser import evaluate

    (tmp_path / "config.json").write_text('{"method": "dann", "da')
    with pytest.raises(SystemExit) as e:
        evaluate.main(["--workdir", str(tmp_path)])
    assert str(e.value).startswith(f"error: {tmp_path / 'config.json'} is damaged")
    assert "\n" not in str(e.value)


def test_writes_are_whole_and_a_torn_log_line_is_tolerated(tmp_path):
    path = tmp_path / "results.json"
    files.write_json(path, {"uar": 0.5})
    files.write_json(path, {"uar": 0.6})
    assert json.loads(path.read_text()) == {"uar": 0.6}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary left
    log = tmp_path / "metrics.jsonl"
    for step in (1, 2):
        files.append_line(log, {"step": step})
    with log.open("a") as f:
        f.write('{"step": 3, "lo')  # a kill in the middle of a write
    assert files.read_jsonl(log) == [{"step": 1}, {"step": 2}]
    assert files.drop_torn_line(log) and not files.drop_torn_line(log)
    files.append_line(log, {"step": 3})
    assert files.read_jsonl(log) == [{"step": 1}, {"step": 2}, {"step": 3}]
    log.write_text('{"step": 1}\n{"ste\n{"step": 3}\n')  # damage before the last line
    with pytest.raises(files.DamagedFile, match="line 2, is damaged"):
        files.read_jsonl(log)


def test_a_different_config_takes_a_folder_with_no_checkpoint_and_is_refused_after(tmp_path):
    run_folder.claim(tmp_path, _config())
    other = config_lib.load("configs/dann.py", ["train.learning_rate=0.5"])
    run_folder.claim(tmp_path, other)  # nothing trained there yet: the new config takes it
    assert run_folder.read_config(tmp_path).train.learning_rate == 0.5
    (tmp_path / "checkpoints" / "2").mkdir(parents=True)
    with pytest.raises(config_lib.ConfigError, match=r"different config.*train.learning_rate"):
        run_folder.claim(tmp_path, _config())


def test_only_the_lead_process_writes_the_run_files(tmp_path, monkeypatch):
    """In a multi-host run every process runs the same code on a shared folder:
    processes other than 0 check the config but write nothing."""
    from jaxser.evaluation import results

    monkeypatch.setattr(parallel, "is_lead", lambda: False)
    config = _config()
    run_folder.claim(tmp_path, config, stage=config)
    run_folder.write_normalization(tmp_path, {"a": {"mean": [0.0], "std": [1.0]}})
    writer = writers.MetricWriter(tmp_path)
    writer.write(1, {"loss": 1.0})
    classification = {
        "uar": 0.5, "war": 0.5, "macro_f1": 0.5, "pred_balance": 1.0,
        "confusion": [[1, 0], [0, 1]], "classes": ["high", "low"],
    }  # fmt: skip
    r = results.write_results(
        tmp_path, config, {"classification": classification}, 4, {"high": ("angry",)},
        config_hash="abc", write=False,
    )  # fmt: skip
    assert r["uar"] == 0.5 and r["config_hash"] == "abc"
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(parallel, "is_lead", lambda: True)
    run_folder.claim(tmp_path, config, stage=config)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "stage.json"]


def test_predict_checks_its_out_file_before_any_work(tmp_path):
    (tmp_path / "config.json").write_text("{}")  # never read: the check comes first
    for out, message in [
        (tmp_path / "missing" / "x.csv", "the folder .*missing does not exist"),
        (tmp_path, "is a folder: name the file to write"),
    ]:
        with pytest.raises(SystemExit, match=message):
            predict.main(["--workdir", str(tmp_path), "--out", str(out), str(tmp_path)])


def test_the_identity_of_a_saved_run_equals_the_one_it_trained_with(tmp_path):
    from jaxser import experiment

    config = config_lib.load("configs/shot.py", ["model.channels=(8,16)"])
    stage = experiment.check(config)
    run_folder.claim(tmp_path, config, stage)
    assert run_folder.saved_hash(tmp_path) == run_folder.config_hash(config, stage)
    assert run_folder.config_hash(config, stage) != run_folder.config_hash(config)
    assert json.loads((tmp_path / "stage.json").read_text())["data"]["target"] == "synth_emodb"
