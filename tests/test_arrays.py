"""A user's own arrays (`data.features=npy:<dir>`): round trips through the store
for every shape, the errors and refusals, and tiny runs of five methods on a
frame kind (every layer of a model) and a functional kind (a vector per
utterance)."""

import json

import numpy as np
import pytest
from conftest import SMALL
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, models, predict
from jaxser.data import arrays, features, store
from jaxser.data.corpora.base import Utterance

LOGMEL = features.FeatureConfig()


def write_arrays(folder, data_dir, shape: str, corpora=tuple(SMALL), name=None):
    """Arrays made from the small log-mel stores, one per utterance: "frames"
    (T, 64) as stored, "layers" (3, T, 64: the frames, twice, half), "vector" (64,)
    their mean. Returns {corpus: CorpusData of the log-mel store}."""
    folder.mkdir(parents=True, exist_ok=True)
    loaded = {}
    for corpus in corpora:
        data = loaded[corpus] = store.load(corpus, data_dir, LOGMEL)
        for i, utt_id in enumerate(data.utt_id):
            x = data.utterance(i)
            x = {"frames": x, "layers": np.stack([x, 2 * x, x / 2]), "vector": x.mean(0)}[shape]
            stem = name(corpus, utt_id) if name else f"{corpus}-{utt_id}"
            np.save(folder / f"{stem}.npy", x)
    return loaded


@pytest.mark.parametrize("shape", ["frames", "layers", "vector"])
def test_arrays_round_trip_through_the_store(small_data_dir, tmp_path, shape):
    loaded = write_arrays(tmp_path / "arrays", small_data_dir, shape, ["synth_emodb"])
    config = features.FeatureConfig(kind=f"npy:{tmp_path / 'arrays'}")
    store.prepare("synth_emodb", data_dir=tmp_path / "data", config=config, workers=1,
                  synth_max_texts=SMALL["synth_emodb"])  # fmt: skip
    got, want = store.load("synth_emodb", tmp_path / "data", config), loaded["synth_emodb"]
    np.testing.assert_array_equal(got.utt_id, want.utt_id)
    np.testing.assert_array_equal(got.emotion, want.emotion)
    for i in range(len(want)):
        x = want.utterance(i)
        expect = {
            "frames": x,
            "layers": np.concatenate([x, 2 * x, x / 2], axis=1),  # [T, 3 * 64]: side by side
            "vector": x.mean(0)[None],
        }[shape]
        np.testing.assert_array_equal(got.utterance(i), expect)
    assert config.layers == (3 if shape == "layers" else 1)
    assert config.per_utterance == (shape == "vector")
    assert config.dim == (192 if shape == "layers" else 64)
    assert got.manifest["skipped"] == []


def test_an_array_is_found_by_utt_id_or_by_emobox_key_of_the_file_stem(tmp_path):
    """EmoBox names an array `<dataset>-<file stem>`, which may differ from the
    adapter's utt id."""
    a = Utterance(
        "/c/liuchanhg/angry/201.wav", "casia", "liuchanhg_angry_201", "angry", "l", "f", ""
    )
    b = Utterance("/c/wangzhe/sad/202.wav", "casia", "wangzhe_sad_202", "sad", "w", "m", "")
    c = Utterance("/c/wangzhe/sad/203.wav", "casia", "wangzhe_sad_203", "sad", "w", "m", "")
    np.save(tmp_path / "casia-liuchanhg_angry_201.npy", np.zeros((4, 3), np.float32))
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "casia-202.npy", np.ones((5, 3), np.float32))
    found, missing = arrays.match(str(tmp_path), [a, b, c])
    assert found == {a.utt_id: tmp_path / "casia-liuchanhg_angry_201.npy",
                     b.utt_id: tmp_path / "sub" / "casia-202.npy"}  # fmt: skip
    assert missing == ["casia-wangzhe_sad_203"]


def test_missing_arrays_refuse_to_prepare_unless_allowed(small_data_dir, tmp_path):
    write_arrays(tmp_path / "a", small_data_dir, "frames", ["synth_emodb"])
    gone = sorted((tmp_path / "a").glob("*.npy"))[:3]
    for f in gone:
        f.unlink()
    config = features.FeatureConfig(kind=f"npy:{tmp_path / 'a'}")
    n = len(store.load("synth_emodb", small_data_dir, LOGMEL))
    args = dict(data_dir=tmp_path / "data", config=config, workers=1,
                synth_max_texts=SMALL["synth_emodb"])  # fmt: skip
    with pytest.raises(arrays.ArrayError, match=rf"3 of {n} utterances have no array in .*"
                       rf"{gone[0].stem}.*--allow_missing_arrays"):  # fmt: skip
        store.prepare("synth_emodb", **args)
    assert store.read_manifest("synth_emodb", tmp_path / "data", config) is None
    assert not store.store_dir("synth_emodb", tmp_path / "data", config).exists()
    store.prepare("synth_emodb", **args, allow_missing_arrays=True)
    m = store.read_manifest("synth_emodb", tmp_path / "data", config)
    assert m["num_utterances"] == n - 3
    assert sorted(s["reason"].split(" in ")[0] for s in m["skipped"]) == sorted(
        f"no array {f.stem}.npy" for f in gone
    )


def test_inconsistent_arrays_name_the_first_offender_and_nan_ones_are_skipped(
    small_data_dir, tmp_path
):
    write_arrays(tmp_path / "a", small_data_dir, "frames", ["synth_emodb"])
    files = sorted((tmp_path / "a").glob("*.npy"))
    config = features.FeatureConfig(kind=f"npy:{tmp_path / 'a'}")
    args = dict(data_dir=tmp_path / "data", config=config, workers=1,
                synth_max_texts=SMALL["synth_emodb"])  # fmt: skip
    np.save(files[4], np.zeros((10, 63), np.float32))  # width
    with pytest.raises(arrays.ArrayError, match=rf"{files[4].name}: shape \(10, 63\), but .* D=64"):
        store.prepare("synth_emodb", **args)
    np.save(files[4], np.zeros((2, 10, 64), np.float32))  # rank
    with pytest.raises(arrays.ArrayError, match=rf"{files[4].name}: shape \(2, 10, 64\)"):
        store.prepare("synth_emodb", **args)
    bad = np.load(files[5])
    bad[3, 7] = np.nan
    np.save(files[4], np.zeros((10, 64), np.float32))  # right again
    np.save(files[5], bad)
    np.save(files[6], np.full((5, 64), np.inf, np.float32))
    store.prepare("synth_emodb", **args)
    m = store.read_manifest("synth_emodb", tmp_path / "data", config)
    reasons = {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in m["skipped"]}
    assert list(reasons.values()) == ["array holds NaN or infinite values"] * 2
    # a pickled object array is never loaded (reading data never runs code)
    np.save(files[0], np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(arrays.ArrayError, match=rf"{files[0].name}: not a readable .npy"):
        arrays.shape_of(files[0])


@pytest.mark.parametrize(
    "kind, message",
    [
        ("npy:", r"names no folder"),
        ("npy:/no/such/dir", r"npy feature folder /no/such/dir not found"),
    ],
)
def test_a_bad_array_folder_fails_in_check(kind, message):
    config = config_lib.load("configs/dann.py", [f"data.features={kind}"])
    with pytest.raises(config_lib.ConfigError, match=message):
        experiment.check(config)


@pytest.fixture(scope="module")
def array_dirs(small_data_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("arrays")
    write_arrays(root / "layers", small_data_dir, "layers")
    write_arrays(root / "vector", small_data_dir, "vector")
    (root / "layers" / arrays.SIDECAR).write_text(json.dumps({"frames_per_second": 100}))
    for kind in ("layers", "vector"):  # the small renders' stores (a run would render all)
        config = features.FeatureConfig(kind=f"npy:{root / kind}")
        for name, texts in SMALL.items():
            store.prepare(name, data_dir=small_data_dir, config=config, workers=1,
                          synth_max_texts=texts)  # fmt: skip
    return root


@pytest.mark.parametrize("kind", ["layers", "vector"])
@pytest.mark.parametrize("name", ["source_only", "dann", "emodna", "ecan", "msac"])
def test_every_method_runs_on_a_frame_kind_and_a_functional_kind(
    small_data_dir, array_dirs, tmp_path, name, kind
):
    small = ("model.frames_features=16", "model.mlp_features=16")
    config = tiny_config(name, small_data_dir, f"data.features=npy:{array_dirs / kind}", *small)
    expect = {"layers": "frames", "vector": "mlp"}[kind]
    assert models.backbone_name(config) == expect
    assert experiment.crop_frames(config) == (100 if kind == "layers" else 1)
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert r["steps"] == 4 and np.isfinite(r["uar"]) and 0 <= r["uar"] <= 1
    if name == "source_only":  # predict takes the arrays themselves
        clip = next((array_dirs / kind).glob("synth_casia-*.npy"))
        out = predict.predict_files(tmp_path / "run", [str(clip), str(tmp_path / "x.wav")])
        assert [p["path"] for p in out["predictions"]] == [str(clip)]
        assert out["skipped"][0]["reason"] == "no such file or folder"


def test_a_single_corpus_run_with_ood_classes_on_vectors(small_data_dir, array_dirs, tmp_path):
    """LOSO and OOD evaluation (ODIN differentiates the input) on one vector per
    utterance, through MSAC-SERNet's pooling of the MLP's single frame."""
    loso_ood = ("data.protocol=loso", "data.target=", "data.fold=0", "terms.adv.weight=0",
                "data.ood_classes=boredom,disgust", "model.mlp_features=16")  # fmt: skip
    config = tiny_config("msac", small_data_dir, f"data.features=npy:{array_dirs / 'vector'}",
                         *loso_ood)  # fmt: skip
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert (r["protocol"], r["fold"]) == ("loso", 0) and np.isfinite(r["uar"])
    assert r["ood"]["n_out"] == 6 and 0.0 <= r["ood"]["odin"]["auroc"] <= 1.0
