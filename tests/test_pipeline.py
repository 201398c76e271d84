import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from jaxser.data import pipeline, store
from jaxser.data.pipeline import Task

T = 120  # crop frames: small renders have utterances both shorter and longer than this


@pytest.fixture(scope="module")
def data(small_data_dir):
    return pipeline.load_task(Task("synth_emodb", "synth_casia"), small_data_dir)


@pytest.fixture(scope="module")
def arousal(small_data_dir):
    return pipeline.load_task(
        Task("synth_emodb", "synth_casia", label_space="arousal"), small_data_dir
    )


def take(ds, n):
    return list(itertools.islice(pipeline.as_numpy(ds), n))


def test_task_classes_and_splits(data):
    assert data.classes == ("angry", "fear", "happy", "neutral", "sad")
    assert len(data.source) == 10 * 5 * 3  # speakers x shared classes x texts (small render)
    assert set(data.source.label) == set(range(5)) and set(data.target_test.label) == set(range(5))
    assert data.target_adapt is data.target_test  # transductive
    assert len(data.target_test) == 4 * 5 * 5  # casia minus surprise


def test_train_batches_static_shapes_and_no_target_labels(data):
    batches = take(pipeline.train_dataset(data, batch_size=8, crop_frames=T), 5)
    for b in batches:
        assert set(b) == {"source", "target"}
        assert set(b["target"]) == {"x", "mask", "index"}  # no label: not even by mistake
        assert set(b["source"]) == {"x", "mask", "label", "speaker", "gender", "index"}
        assert b["source"]["x"].shape == b["target"]["x"].shape == (8, T, 64)
        assert b["source"]["x"].dtype == np.float32 and b["source"]["mask"].shape == (8, T)
        assert b["source"]["mask"].dtype == bool and b["source"]["label"].dtype == np.int32
        for k in ("label", "speaker", "gender", "index"):
            assert b["source"][k].shape == (8,)


def test_crops_are_slices_of_their_utterance(data):
    (b,) = take(pipeline.train_dataset(data, batch_size=8, crop_frames=T), 1)
    split = data.source
    for x, mask, i, y in zip(
        b["source"]["x"],
        b["source"]["mask"],
        b["source"]["index"],
        b["source"]["label"],
        strict=True,
    ):
        utt = split.frames[split.offsets[i] : split.offsets[i] + split.lengths[i]]
        n = int(mask.sum())
        assert n == min(T, len(utt)) and mask[:n].all()
        assert not x[n:].any()  # padding is zeros
        starts = [s for s in range(len(utt) - n + 1) if np.array_equal(utt[s : s + n], x[:n])]
        assert starts, "crop is not a contiguous window of its utterance"
        assert y == split.label[i]


def test_same_seed_same_stream(data):
    a = take(pipeline.train_dataset(data, 8, T, seed=1), 3)
    b = take(pipeline.train_dataset(data, 8, T, seed=1), 3)
    c = take(pipeline.train_dataset(data, 8, T, seed=2), 3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x["source"]["x"], y["source"]["x"])
        np.testing.assert_array_equal(x["target"]["index"], y["target"]["index"])
    assert not np.array_equal(a[0]["source"]["index"], c[0]["source"]["index"])


def test_epochs_visit_every_utterance(data):
    n = len(data.target_adapt)
    batches = take(pipeline.train_dataset(data, batch_size=10, crop_frames=T), n // 10)
    seen = np.concatenate([b["target"]["index"] for b in batches])
    assert n == 100 and sorted(seen) == list(range(n))  # one epoch: a permutation


def test_balanced_batches_hold_every_class(data):
    for b in take(pipeline.train_dataset(data, 12, T, balanced=True), 6):
        counts = np.bincount(b["source"]["label"], minlength=5)
        assert counts.min() >= 2 and counts.max() - counts.min() <= 1


def test_streams_run_without_autotuning_and_in_the_same_order_on_more_cores(data, monkeypatch):
    """No tf.data autotuning (its model thread made deleting an iterator wait up
    to a minute), and the batches do not depend on how many map calls run at once."""
    split = data.target_test
    streams = {
        "train": lambda: pipeline.train_dataset(data, 8, T, seed=1),
        "eval": lambda: pipeline.eval_dataset(split, batch_size=16, crop_frames=T),
    }
    for make in streams.values():
        assert make().options().autotune.enabled is False
    one = {k: take(make(), 5) for k, make in streams.items()}
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    many = {k: take(make(), 5) for k, make in streams.items()}
    for k in streams:
        for a, b in zip(one[k], many[k], strict=True):
            for path, x in leaves(a).items():
                np.testing.assert_array_equal(x, leaves(b)[path], err_msg=f"{k} {path}")


def leaves(tree, prefix=""):
    """{"a/b": leaf} of a nested dict of arrays."""
    out = {}
    for k, v in tree.items():
        out |= leaves(v, f"{prefix}{k}/") if isinstance(v, dict) else {prefix + k: v}
    return out


def test_processes_split_the_global_batch(data):
    (one,) = take(pipeline.train_dataset(data, 8, T, seed=3), 1)
    parts = [
        take(pipeline.train_dataset(data, 8, T, seed=3, process_index=p, process_count=2), 1)[0]
        for p in range(2)
    ]
    for side in ("source", "target"):
        for k in one[side]:
            np.testing.assert_array_equal(one[side][k], np.concatenate([p[side][k] for p in parts]))


def test_eval_covers_every_utterance_once(data):
    split = data.target_test
    batches = take(pipeline.eval_dataset(split, batch_size=16, crop_frames=T), 10_000)
    assert all(b["x"].shape == (16, T, 64) for b in batches)
    valid = np.concatenate([b["valid"] for b in batches])
    index = np.concatenate([b["index"] for b in batches])[valid]
    frames = np.concatenate([b["mask"].sum(1) for b in batches])[valid]
    label = np.concatenate([b["label"] for b in batches])[valid]
    assert not np.concatenate([b["mask"] for b in batches])[~valid].any()  # padding masked
    assert set(index) == set(range(len(split)))
    windows = np.bincount(index, minlength=len(split))
    np.testing.assert_array_equal(windows, np.maximum(1, -(-split.lengths // T)))
    covered = np.bincount(index, weights=frames, minlength=len(split))
    assert (covered >= split.lengths).all()  # whole utterances (last window may overlap)
    np.testing.assert_array_equal(label, split.label[index])
    (first,) = [i for i, b in enumerate(batches) if b["valid"][0]][:1]
    b = batches[first]
    i = b["index"][0]
    np.testing.assert_array_equal(
        b["x"][0][b["mask"][0]], split.frames[split.offsets[i] :][: b["mask"][0].sum()]
    )


def test_normalisations(small_data_dir):
    raw = store.load("synth_emodb", small_data_dir)
    utt = pipeline.normalize(raw, "utterance")
    x = utt[raw.offsets[3] : raw.offsets[3] + raw.lengths[3]]
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(x.std(0), 1, atol=1e-2)
    corpus = pipeline.normalize(raw, "corpus")[:-1]
    np.testing.assert_allclose(corpus.mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(corpus.std(0), 1, atol=1e-2)
    np.testing.assert_array_equal(pipeline.normalize(raw, "none"), raw.frames)
    speaker = pipeline.normalize(raw, "speaker")
    assert np.all(speaker[-1] == 0)  # the padding row
    for s in np.unique(raw.speaker):
        idx = np.flatnonzero(raw.speaker == s)
        rows = np.concatenate(
            [np.arange(raw.offsets[i], raw.offsets[i] + raw.lengths[i]) for i in idx]
        )
        x, ref = speaker[rows], raw.frames[rows].astype(np.float64)
        np.testing.assert_allclose(x, (ref - ref.mean(0)) / (ref.std(0) + 1e-5), atol=1e-4)
        np.testing.assert_allclose(x.mean(0), 0, atol=1e-4)
        # one speaker's utterances keep their differences (not each centred on itself)
        first = idx[0]
        utt = speaker[raw.offsets[first] : raw.offsets[first] + raw.lengths[first]]
        assert np.abs(utt.mean(0)).max() > 0.05
    with pytest.raises(ValueError, match="known"):
        pipeline.normalize(raw, "global")


def test_held_out_splits_target_speakers(small_data_dir):
    d = pipeline.load_task(Task("synth_emodb", "synth_casia", protocol="held_out"), small_data_dir)
    adapt = {d.target_adapt.speakers[i] for i in d.target_adapt.speaker}
    test = {d.target_test.speakers[i] for i in d.target_test.speaker}
    assert adapt and test and not adapt & test
    assert len(d.target_adapt) + len(d.target_test) == 100


def test_explicit_classes(small_data_dir):
    d = pipeline.load_task(
        Task("synth_emodb", "synth_casia", classes=("sad", "angry")), small_data_dir
    )
    assert d.classes == ("angry", "sad") and set(d.source.label) == {0, 1}
    with pytest.raises(ValueError, match="not shared"):
        pipeline.load_task(
            Task("synth_emodb", "synth_casia", classes=("angry", "surprise")), small_data_dir
        )


def test_missing_real_corpus_names_the_command(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"python -m jaxser.prepare --corpus emodb --path \S+ --data_dir"
    ):
        pipeline.load_task(Task("emodb", "synth_casia"), tmp_path)


def test_synthetic_corpus_is_prepared_on_demand(tmp_path, monkeypatch):
    calls = []
    real = store.prepare

    def small(name, **kw):
        calls.append(name)
        return real(name, **kw, synth_max_texts=1)

    monkeypatch.setattr(store, "prepare", small)
    data = pipeline.load_corpus("synth_emovo", tmp_path)
    assert calls == ["synth_emovo"] and len(data) == 6 * 7


def test_a_binary_task_uses_every_utterance_whose_emotion_maps(arousal, data):
    assert arousal.classes == ("high", "low")
    assert arousal.mapping["low"] == ("boredom", "calm", "disgust", "neutral", "sad")
    # synth_emodb (small render): 10 speakers x 7 emotions x 3 texts, all of them map
    assert len(arousal.source) == 10 * 7 * 3 > len(data.source)
    # synth_casia: angry fear happy surprise -> high (4 x 4 x 5), neutral sad -> low
    assert np.bincount(arousal.target_test.label).tolist() == [4 * 4 * 5, 4 * 2 * 5]
    emotion_of = dict(zip(arousal.source.utt_id, arousal.source.label, strict=True))
    assert emotion_of[data.source.utt_id[data.source.label == 0][0]] == 0  # angry: high
    assert emotion_of[data.source.utt_id[data.source.label == 3][0]] == 1  # neutral: low
    # each utterance keeps its emotion: every one in the class that holds it
    for split in (arousal.source, arousal.target_test):
        halves = [arousal.mapping[arousal.classes[i]] for i in split.label]
        assert all(e in h for e, h in zip(split.emotion, halves, strict=True))
    assert sorted(set(arousal.target_test.emotion)) == [
        "angry", "fear", "happy", "neutral", "sad", "surprise",
    ]  # fmt: skip
    assert data.target_test.emotion.tolist() == [data.classes[i] for i in data.target_test.label]


def test_binary_balanced_batches_and_evaluation_coverage(arousal):
    for b in take(pipeline.train_dataset(arousal, 7, T, balanced=True), 4):
        counts = np.bincount(b["source"]["label"], minlength=2)
        assert counts.min() >= 3 and counts.max() - counts.min() <= 1
    split = arousal.target_test
    batches = take(pipeline.eval_dataset(split, batch_size=16, crop_frames=T), 10_000)
    seen = np.zeros(len(split), int)
    for b in batches:
        np.add.at(seen, b["index"][b["valid"]], 1)
    windows = [max(1, -(-int(n) // T)) for n in split.lengths]
    np.testing.assert_array_equal(seen, windows)  # every utterance, each of its windows once


def test_a_class_missing_on_one_side_fails_with_the_counts(small_data_dir):
    halves = (("high", ("boredom",)), ("low", ("neutral", "sad")))  # synth_casia: no boredom
    task = Task("synth_emodb", "synth_casia", label_space="arousal", overrides=halves)
    with pytest.raises(ValueError, match=r"no utterance on one side.*'synth_emodb': \{'high': 30"):
        pipeline.load_task(task, small_data_dir)
    with pytest.raises(ValueError, match=r"'synth_casia': \{'high': 0, 'low': 40\}"):
        pipeline.load_task(task, small_data_dir)


def test_held_out_protocol_in_a_binary_space(small_data_dir):
    task = Task("synth_emodb", "synth_casia", protocol="held_out", label_space="valence")
    d = pipeline.load_task(task, small_data_dir)
    assert d.classes == ("negative", "positive")
    adapt, test = d.target_adapt, d.target_test
    assert not set(adapt.speakers) & set(test.speakers) and len(adapt) + len(test) == 120
    assert set(adapt.label) == set(test.label) == {0, 1}


def test_tensorflow_is_imported_without_keras_and_keras_still_imports_later():
    code = (
        "import sys; from jaxser.data import quiet; tf = quiet.tensorflow(); "
        "print('keras' in sys.modules, 'sklearn' in sys.modules, "
        "quiet.KERAS_EAGER in sys.modules); "
        "import keras.src.optimizers; print(hasattr(tf.keras, 'layers'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False", "True"]
