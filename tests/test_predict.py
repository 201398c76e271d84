"""python -m jaxser.predict: the run's own evaluation outputs for its utterances, and
bad files skipped with their reasons."""

import csv
import io
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from tiny import tiny_config

from jaxser import experiment, predict
from jaxser.data import corpora
from jaxser.evaluation.predict import Predictions


@pytest.fixture(scope="module")
def run(small_data_dir, tmp_path_factory):
    """A tiny trained run (synth_emodb -> synth_casia) and its target's audio files."""
    workdir = tmp_path_factory.mktemp("run")
    experiment.train(tiny_config("source_only", small_data_dir), workdir, progress=False)
    audio = corpora.get("synth_casia").scan(small_data_dir / "synth_casia" / "audio")
    return workdir, {u.utt_id: u.path for u in audio.utterances}


def test_probabilities_equal_the_runs_evaluation_output(run, small_data_dir):
    workdir, paths = run
    exp = experiment.restore(workdir)
    evaluated = Predictions.of(exp, exp.state)("target_test")
    split = exp.data.target_test
    chosen = [0, 7, len(split) - 1]
    out = predict.predict_files(workdir, [paths[split.utt_id[i]] for i in chosen])
    assert out["skipped"] == [] and out["classes"] == list(exp.classes)
    got = np.array([[r["probabilities"][c] for c in exp.classes] for r in out["predictions"]])
    np.testing.assert_allclose(got, evaluated["probs"][chosen], rtol=1e-5, atol=1e-6)
    assert [r["prediction"] for r in out["predictions"]] == [
        exp.classes[k] for k in evaluated["probs"][chosen].argmax(1)
    ]


def test_a_folder_with_bad_files(run, tmp_path):
    workdir, paths = run
    folder = tmp_path / "clips"
    (folder / "sub").mkdir(parents=True)
    good = sorted(paths.values())[:2]
    shutil.copy(good[0], folder / "a.wav")
    shutil.copy(good[1], folder / "sub" / "b.wav")
    (folder / "corrupt.wav").write_bytes(np.random.default_rng(0).bytes(4000))
    (folder / "empty.flac").write_bytes(b"")
    (folder / "notes.txt").write_text("not audio")
    sf.write(folder / "silent.wav", np.zeros(16000, np.float32), 16000)
    r = subprocess.run(
        [sys.executable, "-m", "jaxser.predict", "--workdir", str(workdir), str(folder)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert sorted(row["path"] for row in rows) == [str(folder / "a.wav"), str(folder / "sub/b.wav")]
    classes = [k.removeprefix("p_") for k in rows[0] if k.startswith("p_")]
    for row in rows:
        assert abs(sum(float(row[f"p_{c}"]) for c in classes) - 1) < 1e-4
        assert row["prediction"] in classes
    for name, reason in [
        ("corrupt.wav", "unreadable"),
        ("empty.flac", "empty file"),
        ("notes.txt", "unknown format (.txt)"),
        ("silent.wav", "silent"),
    ]:
        assert f"skipped {folder / name}: " in r.stderr and reason in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "jaxser.predict", "--workdir", str(workdir), "--json",
         "--out", str(tmp_path / "p.json"), str(folder / "notes.txt"), str(folder / "empty.flac")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 2  # no file got a prediction
    out = json.loads((tmp_path / "p.json").read_text())
    assert out["predictions"] == [] and {s["path"] for s in out["skipped"]} == {
        str(folder / "notes.txt"),
        str(folder / "empty.flac"),
    }


def test_not_a_run_fails_before_any_work(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "jaxser.predict", "--workdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "holds no run" in r.stderr and "Traceback" not in r.stderr
