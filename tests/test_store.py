import json
import shutil
import subprocess
import sys
from pathlib import Path

import fakes
import numpy as np
import pytest
import soundfile as sf

from jaxser.data import store
from jaxser.data.features import FeatureConfig
from jaxser.data.store import tfds  # through jaxser.data.quiet, as every TensorFlow import

MANIFEST_KEYS = {
    "corpus",
    "num_utterances",
    "counts",
    "skipped",
    "features",
    "feature_hash",
    "stats",
}


def test_manifest_of_a_synthetic_store(small_data_dir):
    m = store.read_manifest("synth_casia", small_data_dir)
    assert MANIFEST_KEYS <= set(m)
    assert m["num_utterances"] == 4 * 6 * 5
    assert m["counts"]["emotion"] == {
        e: 20 for e in ["angry", "fear", "happy", "neutral", "sad", "surprise"]
    }
    assert m["counts"]["gender"] == {"f": 60, "m": 60}
    assert m["counts"]["speaker"] == {
        s: 30 for s in ["liuchanhg", "wangzhe", "zhaoquanyin", "zhaozuoxiang"]
    }
    assert m["skipped"] == []
    assert m["feature_hash"] == FeatureConfig().key() and len(m["stats"]["mean"]) == 64
    assert all(s > 0 for s in m["stats"]["std"])


def test_stats_and_tfds_load_agree(small_data_dir):
    data = store.load("synth_emodb", small_data_dir)
    x = data.frames[:-1].astype(np.float64)
    np.testing.assert_allclose(data.manifest["stats"]["mean"], x.mean(0), atol=1e-4)
    np.testing.assert_allclose(data.manifest["stats"]["std"], x.std(0), rtol=1e-3)
    assert not data.frames[-1].any() and len(data) == data.manifest["num_utterances"]
    # the store is a plain TFDS dataset
    ds = tfds.load(
        "jaxser_synth_emodb",
        split="full",
        download=False,
        data_dir=data.manifest["tfds"]["data_dir"],
    )
    assert sum(1 for _ in ds) == len(data)


def test_bad_files_are_skipped_and_listed(tmp_path):
    root = fakes.emodb(tmp_path / "emodb")
    sf.write(root / "wav" / "11a02Wa.wav", np.zeros(16000, np.float32), 16000)  # silent
    sf.write(root / "wav" / "12a02Wa.wav", np.full(800, np.nan, np.float32), 16000, subtype="FLOAT")
    (root / "wav" / "14a02Wa.wav").write_bytes(b"not audio at all")
    (root / "wav" / "15a02Wa.wav").write_bytes(b"")
    path = store.prepare("emodb", root, tmp_path / "data", workers=2)
    m = json.loads(path.read_text())
    reasons = {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in m["skipped"]}
    assert "silent" in reasons["11a02Wa.wav"]
    assert "NaN" in reasons["12a02Wa.wav"]
    assert "unreadable" in reasons["14a02Wa.wav"]
    assert "empty" in reasons["15a02Wa.wav"]
    assert "unknown emotion code" in reasons["03a01Xa.wav"]
    assert "notes.txt" in reasons
    assert m["num_utterances"] == 7 == sum(m["counts"]["emotion"].values())


def test_reuse_and_interrupted_store(tmp_path):
    root = fakes.casia(tmp_path / "casia")
    data_dir = tmp_path / "data"
    path = store.prepare("casia", root, data_dir, workers=1)
    stamp = path.stat().st_mtime_ns
    assert store.prepare("casia", root, data_dir) == path and path.stat().st_mtime_ns == stamp
    # another folder, or this folder changed since: refused in one line, never reused
    copy = tmp_path / "casia_copy"
    shutil.copytree(root, copy)
    with pytest.raises(store.StoreMismatch, match=rf"built from {root}, not from --path {copy}"):
        store.prepare("casia", copy, data_dir)
    from jaxser import prepare

    with pytest.raises(SystemExit) as e:  # the CLI: one line
        prepare.main(["--corpus", "casia", "--path", str(copy), "--data_dir", str(data_dir)])
    assert str(e.value).startswith("error: ") and "\n" not in str(e.value)
    assert str(e.value).endswith("add --rebuild to rebuild it (or use another --data_dir)")
    n = json.loads(path.read_text())["source"]["fingerprint"]["files"]
    wav = next(copy.rglob("*.wav"))
    shutil.copy(wav, wav.with_name("extra.wav"))
    shutil.rmtree(data_dir)
    path = store.prepare("casia", copy, data_dir, workers=1)
    wav.with_name("extra.wav").unlink()
    changed = rf"changed since .*\({n + 1} files then, {n} now"
    with pytest.raises(store.StoreMismatch, match=changed):
        store.prepare("casia", copy, data_dir)
    path = store.prepare("casia", root, data_dir, workers=1, rebuild=True)
    assert json.loads(path.read_text())["source"]["path"] == str(root.resolve())
    # an interrupted run: TFDS files but no manifest -> rebuilt from scratch
    path.unlink()
    (path.parent / "leftover").write_text("x")
    path = store.prepare("casia", root, data_dir, workers=1)
    assert path.is_file() and not (path.parent / "leftover").exists()
    # other feature settings -> another store, never the stale one
    other = store.prepare("casia", root, data_dir, FeatureConfig(n_mels=40), workers=1)
    assert other.parent != path.parent and len(json.loads(other.read_text())["stats"]["mean"]) == 40
    assert store.load("casia", data_dir, FeatureConfig(n_mels=40)).frames.shape[1] == 40
    shutil.rmtree(data_dir)


def test_enterface_avi_store(tmp_path):
    root = fakes.enterface(tmp_path / "enterface")
    m = json.loads(store.prepare("enterface", root, tmp_path / "data", workers=1).read_text())
    assert m["num_utterances"] == 18 and m["skipped"] == []
    assert m["counts"]["speaker"]["s11"] == 4


def test_another_synthetic_render_is_refused_not_reused(small_data_dir):
    with pytest.raises(store.StoreMismatch, match=r"render with seed 0.*not seed 1.*--rebuild"):
        store.prepare("synth_emodb", data_dir=small_data_dir, synth_seed=1, synth_max_texts=3)


def test_missing_real_corpus_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m jaxser.prepare --corpus emodb --path"):
        store.load("emodb", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m jaxser.prepare --corpus casia --path"):
        store.prepare("casia", None, tmp_path)


def test_a_folder_of_unusable_files_fails_in_one_line(tmp_path):
    root = tmp_path / "emodb" / "wav"
    root.mkdir(parents=True)
    for i, name in enumerate(["03a01Wa.wav", "03a01Fa.wav", "08b02Nb.wav"]):
        (root / name).write_bytes(np.random.default_rng(i).bytes(3000))  # random bytes
    (root / "09b03Aa.wav").write_bytes(b"")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "jaxser.prepare",
            "--corpus",
            "emodb",
            "--path",
            str(root.parent),
            "--data_dir",
            str(tmp_path / "data"),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("error: no usable utterance in") and "4 files skipped" in line
    assert "unreadable audio: 3" in line and "empty file: 1" in line
    listed = Path(line.rsplit(" ", 1)[-1])
    assert {Path(s["path"]).name for s in json.loads(listed.read_text())} == {
        "03a01Wa.wav",
        "03a01Fa.wav",
        "08b02Nb.wav",
        "09b03Aa.wav",
    }
    assert store.read_manifest("emodb", tmp_path / "data") is None  # nothing marked complete


def test_concurrent_prepares_of_one_store_all_succeed(tmp_path):
    """Processes started together on one data dir: one builds, the others wait and reuse."""
    code = (
        "import sys; from jaxser.data import store; "
        "print(store.prepare('synth_emodb', data_dir=sys.argv[1], workers=1, synth_max_texts=2))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "data")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e[-2000:] for _, e in outs]
    assert len({o.strip() for o, _ in outs}) == 1  # the same manifest
    assert sum("rendering the synthetic corpus" in e for _, e in outs) == 1  # built once
    assert sum("featurising" in e and "wrote" in e for _, e in outs) == 1  # jaxser's own lines
    # no library chatter: TFDS's download lines, TensorFlow's C++ start-up lines
    assert not any("Downloading and preparing" in e or "oneDNN" in e for _, e in outs)
    assert store.load("synth_emodb", tmp_path / "data").manifest["num_utterances"] > 0
