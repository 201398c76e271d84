"""Source-free adaptation: the losses against numpy references on hand-built banks,
neighbour search, SHOT's centroids, the banks as state, the two stages and bad input."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import cdist
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, predict, stages
from jaxser.data import batch as batch_lib
from jaxser.evaluation.predict import Predictions, without_labels
from jaxser.losses import neighbours
from jaxser.methods import source_free
from jaxser.methods.base import Context
from jaxser.training import loop

N, B, D, C = 12, 4, 3, 3  # bank rows, batch, feature dim, classes


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_nearest(q, bank, own, k):
    """Reference neighbour search: sort by similarity, skip the own row."""
    out = []
    for i, row in enumerate(q @ bank.T):
        order = [j for j in np.argsort(-row, kind="stable") if j != own[i]]
        out.append(order[:k])
    return np.array(out)


@pytest.fixture
def banks():
    """A hand-built state, a batch of rows 2, 5, 7, 11 and the step's outputs."""
    r = np.random.default_rng(0)
    state = {
        "features": jnp.array(unit(r.normal(size=(N, D))), jnp.float32),
        "scores": jnp.array(softmax(r.normal(size=(N, C))), jnp.float32),
    }
    index = np.array([2, 5, 7, 11])
    out = {
        "target": {
            "features": jnp.array(r.normal(size=(B, D)), jnp.float32),
            "logits": jnp.array(r.normal(size=(B, C)), jnp.float32),
        }
    }
    batch = {"target": {"index": jnp.array(index, jnp.int32)}}
    ctx = Context(jnp.array(0), jnp.array(0.0), state, None, ("a", "b", "c"))
    # the banks as the terms see them: the batch's rows written
    f, s = np.array(state["features"]), np.array(state["scores"])
    f[index] = unit(np.array(out["target"]["features"]))
    s[index] = softmax(np.array(out["target"]["logits"]))
    return out, batch, ctx, f, s, index


def test_nearest_excludes_the_sample_itself_even_under_duplicate_features():
    bank = unit(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [1.0, 0.0]]))
    idx = neighbours.nearest(jnp.array(bank), jnp.array(bank), jnp.arange(5), 2)
    idx = np.array(idx)
    assert all(i not in row for i, row in enumerate(idx))
    # rows 0, 1 and 4 are identical: each one's neighbours are the other two
    for i in (0, 1, 4):
        assert set(idx[i]) == {0, 1, 4} - {i}
    np.testing.assert_array_equal(idx[2], [3, 0])  # ties broken by the lower index


def test_written_banks_overwrite_only_the_batch_rows(banks):
    out, batch, ctx, f, s, index = banks
    features, scores = source_free.written_banks(ctx.state, out, batch)
    np.testing.assert_allclose(features, f, rtol=1e-6)
    np.testing.assert_allclose(scores, s, rtol=1e-6)
    keep = np.setdiff1d(np.arange(N), index)
    np.testing.assert_array_equal(features[keep], ctx.state["features"][keep])


def test_nrc_against_numpy(banks):
    out, batch, ctx, f, s, index = banks
    k, kk, weak = 3, 2, 0.1
    p = softmax(np.array(out["target"]["logits"]))
    q = unit(np.array(out["target"]["features"]))
    near = np_nearest(q, f, index, k)
    expected = 0.0
    for i in range(B):
        for j in near[i]:
            far = np_nearest(f[j][None], f, [j], kk)[0]
            w = 1.0 if index[i] in far else weak
            expected -= w * p[i] @ s[j] / B
            expected -= sum(weak * p[i] @ s[m] for m in far) / B
    value, aux = source_free.nrc(out, batch, ctx, k=k, kk=kk, weak=weak)
    assert float(value) == pytest.approx(expected, rel=1e-5)
    assert 0.0 <= float(aux["reciprocal_share"]) <= 1.0


def test_aad_against_numpy(banks):
    out, batch, ctx, f, s, index = banks
    p = softmax(np.array(out["target"]["logits"]))
    near = np_nearest(unit(np.array(out["target"]["features"])), f, index, 3)
    attract = -np.mean([sum(p[i] @ s[j] for j in near[i]) for i in range(B)])
    disperse = np.mean([sum(p[i] @ p[j] for j in range(B) if j != i) for i in range(B)])
    assert float(source_free.neighbour_attract(out, batch, ctx, k=3)) == pytest.approx(
        attract, 1e-5
    )
    assert float(source_free.batch_disperse(out, batch, ctx)) == pytest.approx(disperse, 1e-5)


@pytest.mark.parametrize("space", source_free.SPACES)
def test_ecan_ncl_against_numpy(banks, space):
    out, batch, ctx, f, s, index = banks
    t, k = 0.1, 3
    feats = np.array(out["target"]["features"])
    near = np_nearest(unit(feats), f, index, k)
    if space == "prediction":
        a, bank = unit(softmax(np.array(out["target"]["logits"]))), s
    else:
        a, bank = unit(feats), f
    terms = []
    for i in range(B):
        neg = sum(np.exp(a[i] @ a[j] / t) for j in range(B) if j != i)
        for j in near[i]:
            pos = np.exp(a[i] @ unit(bank[j]) / t)
            terms.append(-np.log(pos / (pos + neg)))
    value = source_free.ecan_ncl(out, batch, ctx, k=k, temperature=t, space=space)
    assert float(value) == pytest.approx(np.mean(terms), rel=1e-5)


@pytest.mark.parametrize("pseudo", source_free.PSEUDO)
def test_ecan_scl_against_numpy(banks, pseudo):
    out, batch, ctx, f, s, index = banks
    t = 0.07
    if pseudo == "bank":  # as stored before this step
        labels = np.array(ctx.state["scores"])[index].argmax(1)
    else:
        near = np_nearest(unit(np.array(out["target"]["features"])), f, index, 3)
        labels = s[near].mean(1).argmax(1)
    z = unit(np.array(out["target"]["features"]))
    per_anchor = []
    for i in range(B):
        pos = [j for j in range(B) if j != i and labels[j] == labels[i]]
        if not pos:
            continue
        denom = sum(np.exp(z[i] @ z[j] / t) for j in range(B) if j != i)
        per_anchor.append(-np.mean([np.log(np.exp(z[i] @ z[j] / t) / denom) for j in pos]))
    expected = np.mean(per_anchor) if per_anchor else 0.0
    value = source_free.ecan_scl(out, batch, ctx, temperature=t, pseudo_labels=pseudo, k=3)
    assert float(value) == pytest.approx(expected, rel=1e-5)


def shot_obtain_label(features, probs):
    """Liang et al.'s `obtain_label` (SHOT's published code), with scipy's cosine
    distance: each of the two passes rebuilds its label set from the labels it
    starts from (the argmax, then the first pass's labels)."""
    c = probs.shape[1]
    f = np.concatenate([features, np.ones((len(features), 1))], 1)
    f = f / np.linalg.norm(f, axis=1, keepdims=True)
    aff, labels = probs.astype(np.float64), probs.argmax(1)
    for _ in range(2):
        initc = aff.T @ f / (1e-8 + aff.sum(0)[:, None])
        labelset = np.flatnonzero(np.eye(c)[labels].sum(0) > 0)
        labels = labelset[cdist(f, initc[labelset], "cosine").argmin(1)]
        aff = np.eye(c)[labels]
    return labels


def test_shot_centroid_labels_equal_a_numpy_kmeans_step():
    r = np.random.default_rng(1)
    features = r.normal(size=(40, 5)).astype(np.float32)
    logits = r.normal(size=(40, 4)) * 2
    logits[:, 3] -= 10  # class 3 is nobody's argmax: it takes no utterance
    probs = softmax(logits).astype(np.float32)
    labels = shot_obtain_label(features, probs)
    got = np.array(neighbours.centroid_labels(jnp.array(features), jnp.array(probs)))
    np.testing.assert_array_equal(got, labels)
    assert 3 not in got


def test_shot_second_pass_never_assigns_a_class_the_first_pass_emptied():
    """Row 9 is class 2's only argmax; the first pass moves it to class 0, so the
    second pass must not send anything to class 2's (zero) centroid. With
    features that go negative, a label set kept from the argmax sent row 8 there."""
    features = np.array([[3, -3]] * 4 + [[-3, -3]] * 4 + [[0, 5]] + [[3, -3]], np.float32)
    logits = np.array([[2, 0, 0]] * 4 + [[0, 2, 0]] * 4 + [[1, 0, 0]] + [[0.5, 0, 0.6]])
    probs = softmax(logits).astype(np.float32)
    expected = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    np.testing.assert_array_equal(shot_obtain_label(features, probs), expected)
    got = np.array(neighbours.centroid_labels(jnp.array(features), jnp.array(probs)))
    np.testing.assert_array_equal(got, expected)


def test_terms_never_read_the_source_half():
    """Every source-free term runs on a batch with no source half."""
    r = np.random.default_rng(0)
    state = {
        "features": jnp.array(unit(r.normal(size=(10, 4))), jnp.float32),
        "scores": jnp.array(softmax(r.normal(size=(10, 3))), jnp.float32),
        "pseudo": jnp.zeros(10, jnp.int32),
    }
    out = {"target": {"features": jnp.ones((6, 4)), "logits": jnp.zeros((6, 3))}}
    out["target"]["features"] = jnp.array(r.normal(size=(6, 4)), jnp.float32)
    batch = {"target": {"index": jnp.arange(6)}}
    ctx = Context(jnp.array(0), jnp.array(0.5), state, None, ("a", "b", "c"))
    for name, fn in source_free.TERMS.items():
        value = fn(out, batch, ctx)
        value = value[0] if isinstance(value, tuple) else value
        assert np.isfinite(float(value)), name


# ---- the two stages, on the small synthetic corpora ----


def test_source_model_step_refuses_a_target_half_and_sf_step_a_source_half(tmp_path):
    classes = ("angry", "fear", "happy", "neutral", "sad")
    batch = batch_lib.random(8, 100, 64, 5)
    exp = experiment.build(tiny_config("source_model", tmp_path), classes, 100)
    assert exp.method.halves == "source"
    with pytest.raises(ValueError, match="source alone.*target half"):
        exp.step(exp.state, batch)
    exp.step(exp.state, {"source": batch["source"]})  # the source half alone runs
    exp = experiment.build(tiny_config("ecan", tmp_path), classes, 100)
    with pytest.raises(ValueError, match="target only.*source half"):
        exp.step(exp.state, batch)


def test_banks_are_filled_with_every_target_utterance_once(small_data_dir):
    exp = experiment.setup(tiny_config("nrc", small_data_dir))
    state = loop._host_update(exp, exp.state, exp.method.fill_state)
    pred = Predictions.of(exp, state)("target_adapt")
    n = len(exp.data.target_adapt)
    assert state.method_state["features"].shape == (n, 16)
    assert state.method_state["scores"].shape == (n, 5)
    # row i is utterance i's own prediction: every utterance once, in index order
    np.testing.assert_allclose(state.method_state["features"], unit(pred["features"]), atol=1e-6)
    np.testing.assert_allclose(state.method_state["scores"], pred["probs"], atol=1e-6)
    # it reads no labels: the same banks from the label-free predictions alone
    refilled = exp.method.fill_state(exp.method.init_state(), without_labels(pred))
    np.testing.assert_array_equal(refilled["scores"], state.method_state["scores"])


def test_second_method_reuses_the_source_model(small_data_dir, tmp_path, capsys):
    cache = f"train.pretrain_cache={tmp_path / 'models'}"
    shot = tiny_config("shot", small_data_dir, cache)
    stage = stages.pretrain_workdir(shot)
    assert stage.name.startswith("source_model-synth_emodb-categorical-seed0-")
    first = experiment.train(shot, tmp_path / "shot", progress=False)
    assert f"start from trained stage {stage}" in capsys.readouterr().err
    saved = json.loads((stage / "config.json").read_text())
    assert saved["data"]["target"] == "synth_emodb"  # the stage never read the target
    assert saved["data"]["classes"] == "angry,fear,happy,neutral,sad"
    ecan = tiny_config("ecan", small_data_dir, cache)
    assert stages.pretrain_workdir(ecan) == stage
    second = experiment.train(ecan, tmp_path / "ecan", progress=False)
    assert f"start from reused stage {stage}" in capsys.readouterr().err
    assert first["before_adaptation"] == second["before_adaptation"]
    assert first["before_adaptation"]["from"] == str(stage)
    assert first["protocol"] == second["protocol"] == "source_free"
    assert first["target_split"] == "transductive"
    # the step-0 evaluation (source model, banks filled) is the source model's figures
    rows = [json.loads(line) for line in (tmp_path / "shot" / "metrics.jsonl").open()]
    (start,) = [r for r in rows if r["kind"] == "eval" and r["step"] == 0]
    assert start["uar"] == first["before_adaptation"]["uar"]
    assert 0.0 <= start["bank/neighbour_purity"] <= 1.0
    # a given source model: the same one, named in the log
    given = tiny_config("nrc", small_data_dir, f"source_model={stage}")
    third = experiment.train(given, tmp_path / "nrc", progress=False)
    assert f"start from given source model {stage}" in capsys.readouterr().err
    assert third["before_adaptation"] == first["before_adaptation"]

    # predict works on source-free runs (their banks need k + 1 target utterances;
    # a model that only predicts has none)
    audio = sorted((small_data_dir / "synth_casia" / "audio").rglob("*.wav"))[:2]
    for run in ("nrc", "ecan"):
        out = predict.predict_files(tmp_path / run, [str(a) for a in audio])
        assert [r["path"] for r in out["predictions"]] == [str(a) for a in audio]
        for r in out["predictions"]:
            assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    _a_run_folder_naming_a_python_file_never_runs_it(tmp_path / "shot", first, small_data_dir)


def _a_run_folder_naming_a_python_file_never_runs_it(run, trained, small_data_dir):
    """config.json is data: a `train.pretrain` naming a .py file (here one that
    leaves a marker) is never imported by evaluate, predict or the tables;
    the stage is read from the stage.json saved when the run trained."""
    from jaxser import evaluate
    from jaxser.evaluation import report

    tmp_path = run.parent
    stage = json.loads((run / "stage.json").read_text())
    assert stage["method"] == "source_model" and stage["train"]["steps"] == 2
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.py"
    evil.write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n\n\n"
        "def get_config():\n    from configs import source_model\n\n"
        "    return source_model.get_config()\n"
    )
    config = json.loads((run / "config.json").read_text())
    config["train"]["pretrain"] = str(evil)
    (run / "config.json").write_text(json.dumps(config))
    again = evaluate.evaluate(run)
    assert again["uar"] == trained["uar"]
    assert again["before_adaptation"] == trained["before_adaptation"]
    audio = sorted((small_data_dir / "synth_casia" / "audio").rglob("*.wav"))[:1]
    assert len(predict.predict_files(run, [str(audio[0])])["predictions"]) == 1
    assert "shot" in report.write(run.parent)
    # a run saved before runs kept stage.json: its stage's own folder, read as data
    (run / "stage.json").unlink()
    _, again_stage = experiment.saved_run(run)
    assert json.loads(config_lib.to_json(again_stage)) == stage
    # and with neither: one line, nothing imported
    (run / "results.json").unlink()
    with pytest.raises(config_lib.ConfigError, match="does not import config files"):
        evaluate.evaluate(run)
    assert not marker.exists()


def test_killed_and_resumed_equals_uninterrupted_with_banks(small_data_dir, tmp_path):
    cache = f"train.pretrain_cache={tmp_path / 'models'}"
    config = tiny_config("shot", small_data_dir, cache, "source_free.refresh_every=1")
    experiment.train(config, tmp_path / "whole", progress=False)
    assert experiment.train(config, tmp_path / "split", max_steps=3, progress=False) == {
        "interrupted_at": 3
    }
    experiment.train(config, tmp_path / "split", progress=False)
    whole, split = (experiment.restore(tmp_path / d).state for d in ("whole", "split"))
    for key in ("features", "scores", "pseudo"):
        np.testing.assert_array_equal(whole.method_state[key], split.method_state[key], key)
    for x, y in zip(jax.tree.leaves(whole.params), jax.tree.leaves(split.params), strict=True):
        np.testing.assert_array_equal(x, y)


def test_bad_source_model_fails_before_any_work(small_data_dir, tmp_path):
    cache = f"train.pretrain_cache={tmp_path / 'models'}"
    stage = stages.pretrain_workdir(tiny_config("ecan", small_data_dir, cache))
    experiment.train(tiny_config("ecan", small_data_dir, cache), tmp_path / "ok", progress=False)
    cases = {
        str(tmp_path / "none"): "holds no run",
        str(tmp_path / "ok" / "checkpoints"): "holds no run",
    }
    for folder, message in cases.items():
        with pytest.raises(config_lib.ConfigError, match=message):
            experiment.train(
                tiny_config("ecan", small_data_dir, f"source_model={folder}"),
                tmp_path / "run",
                progress=False,
            )
    differ = {
        "data.classes=angry,happy,sad": "classes",
        "data.label_space=arousal": "data.label_space",
        "data.n_mels=32": "data.n_mels",
        "model.bottleneck_dim=8": "model.bottleneck_dim",
    }
    for override, key in differ.items():
        config = tiny_config("ecan", small_data_dir, f"source_model={stage}", override)
        with pytest.raises(config_lib.ConfigError, match=rf"differs in: .*{key} \("):
            experiment.train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()  # nothing was written


def test_target_smaller_than_k_plus_one_fails_naming_k_and_size(small_data_dir, tmp_path):
    config = tiny_config("nrc", small_data_dir, "terms.nrc.k=200")
    with pytest.raises(config_lib.ConfigError, match=r"terms.nrc.k = 200 .* has 100"):
        experiment.train(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_bad_options_are_refused():
    for override, message in {
        "terms.ncl.space=pixels": "space='pixels'; known",
        "terms.scl.pseudo_labels=oracle": "pseudo_labels='oracle'; known",
        "terms.ncl.k=0": "k must be >= 1",
        "source_free.backbone_lr=-1.0": "backbone_lr",
    }.items():
        with pytest.raises(config_lib.ConfigError, match=message):
            experiment.check(config_lib.load("configs/ecan.py", [override]))
    with pytest.raises(config_lib.ConfigError, match="needs the target"):
        experiment.check(config_lib.load("configs/source_model.py", ["terms.div.weight=1.0"]))
