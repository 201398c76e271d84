"""Training: golden step, compile-once, resume, guards, one tiny run per config."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
import pytest
from tiny import GOLDEN_DANN_STEPS, TINY, tiny_config

from jaxser import config as config_lib
from jaxser import experiment, methods, stages
from jaxser.data import batch as batch_lib
from jaxser.methods import terms
from jaxser.methods.base import BATCH_HALVES, Context, Term
from jaxser.training import loop
from jaxser.training.step import make_train_step

CLASSES = ("angry", "fear", "happy", "neutral", "sad")
CONFIGS = list(methods.METHODS)  # every method has configs/<name>.py

RESULT_KEYS = {
    "uar",
    "war",
    "macro_f1",
    "per_class_recall",
    "confusion",
    "classes",
    "pred_balance",
    "method",
    "source",
    "target",
    "label_space",
    "label_mapping",
    "seed",
    "steps",
    "protocol",
    "selection",
}


def fake_batch(b=8, t=100, f=64, classes=5, seed=0):
    return batch_lib.random(b, t, f, classes, seed)


def build(name, data_dir, *overrides):
    """The experiment of a tiny config, built from the task's classes (no data)."""
    return experiment.build(tiny_config(name, data_dir, *overrides), CLASSES, 100)


def raw_step(exp):
    """The step function before jit, for tests that probe the step itself."""
    c = exp.config
    return make_train_step(exp.method, exp.tx, c.train.steps, c.seed, CLASSES)


@jax.default_matmul_precision("float32")  # on a GPU, XLA's default for the backbone is TF32
def test_golden_first_step(tmp_path):
    exp = build("dann", tmp_path)
    step, state = exp.step, exp.state
    state, logs = step(state, fake_batch())
    # At initialisation the classifier is near-uniform over 5 classes and the
    # discriminator near 0.5: the first losses are log(5) and log(2).
    assert abs(float(logs["loss/cls"]) - np.log(5)) < 0.1
    assert abs(float(logs["loss/adv"]) - np.log(2)) < 0.05
    # Golden values of these exact steps (seed 0, fake batch), recorded from the first
    # run: a change in the forward pass, the losses or the update shows up here.
    first, second = GOLDEN_DANN_STEPS
    for key, value in first.items():
        np.testing.assert_allclose(float(logs[key]), value, rtol=1e-4)
    state, logs = step(state, fake_batch())
    np.testing.assert_allclose(float(logs["loss"]), second["loss"], rtol=1e-4)
    ramp = 2 / (1 + np.exp(-10 / 4)) - 1
    np.testing.assert_allclose(float(logs["schedule/grl"]), ramp, rtol=1e-6)
    assert int(state.step) == 2


def test_compiles_once(tmp_path):
    exp = build("dsan", tmp_path)
    state, traces = exp.state, []
    inner = raw_step(exp)

    def counted(s, b):
        traces.append(1)
        return inner(s, b)

    step = jax.jit(counted, donate_argnums=0)
    for i in range(3):
        state, _ = step(state, fake_batch(seed=i))
    assert len(traces) == 1 and int(state.step) == 3


@pytest.mark.parametrize("name", CONFIGS)
def test_step_closes_over_no_device_array(name, tmp_path):
    """A device array captured by the step becomes a constant of the compiled
    program, read back from the device when it compiles: on a GPU the loop's
    transfer guard refused the first step for the seed's key (device check,
    H200). Host (numpy) constants need no transfer."""
    exp = build(name, tmp_path)
    batch = fake_batch()
    batch = {h: batch[h] for h in BATCH_HALVES[exp.method.halves]}
    consts = jax.make_jaxpr(raw_step(exp))(exp.state, batch).consts
    assert [type(c).__name__ for c in consts if isinstance(c, jax.Array)] == []


def _products(jaxpr):
    """(primitive, precision) of every matrix product and convolution, nested ones too."""
    for e in jaxpr.eqns:
        if e.primitive.name in ("dot_general", "conv_general_dilated"):
            yield e.primitive.name, e.params.get("precision")
        for p in e.params.values():
            for sub in p if isinstance(p, (list, tuple)) else [p]:
                if isinstance(sub, jax.extend.core.ClosedJaxpr):
                    yield from _products(sub.jaxpr)
                elif isinstance(sub, jax.extend.core.Jaxpr):
                    yield from _products(sub)


@pytest.mark.parametrize("name", ["source_only", "mmd", "didan"])
def test_losses_multiply_in_full_float32_the_backbone_at_the_default(name, tmp_path):
    """The loss terms' products are pinned to HIGHEST (a GPU's default float32
    product is TF32, which moved the first losses by 1e-4 on an H200); the
    backbone's convolutions and the heads keep the platform's default."""
    exp = build(name, tmp_path)
    products = list(_products(jax.make_jaxpr(raw_step(exp))(exp.state, fake_batch()).jaxpr))
    highest = (jax.lax.Precision.HIGHEST,) * 2
    pinned = [p for p, precision in products if precision == highest]
    assert all(p == "dot_general" for p in pinned)
    assert ("conv_general_dilated", None) in products
    # MMD's kernel and IDA's ridge are products in the losses; source_only's CE has none
    assert (len(pinned) > 0) == (name != "source_only"), products


def test_step_refuses_target_labels(tmp_path):
    exp = build("source_only", tmp_path)
    batch = fake_batch()
    batch["target"]["label"] = batch["source"]["label"]
    with pytest.raises(ValueError, match="target labels"):
        exp.step(exp.state, batch)


def test_every_term_of_every_method_runs_without_target_labels():
    from jaxser.methods import thresholds

    rng = np.random.default_rng(0)

    def unit(x):
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    out = {
        side: {
            "features": jnp.array(rng.normal(size=(6, 4))),
            "logits": jnp.array(rng.normal(size=(6, 3))),
            "domain_logits": jnp.array(rng.normal(size=(6, 1))),
            "corpus_logits": jnp.array(rng.normal(size=(6, 1))),
            "z_e": jnp.array(unit(rng.normal(size=(6, 4)))),
            "z_c": jnp.array(unit(rng.normal(size=(6, 4)))),
            **{f"fc{i}": jnp.array(rng.normal(size=(6, 4))) for i in (1, 2, 3)},
            "cosine": jnp.array(np.tanh(rng.normal(size=(6, 3)))),
            "speaker_logits": jnp.array(rng.normal(size=(6, 4))),
            "speaker_confusion_logits": jnp.array(rng.normal(size=(6, 4))),
            "attribute_features": jnp.array(rng.normal(size=(6, 4))),
            "gender_logits": jnp.array(rng.normal(size=(6, 3))),
        }
        for side in ("source", "target")
    }
    source = {"label": jnp.array([0, 1, 2, 0, 1, 2]), "speaker": jnp.array([0, 1, 2, 3, 0, 1])}
    source["gender"] = jnp.array([0, 1, 0, 1, 2, 0])
    batch = {"source": source, "target": {"index": jnp.arange(6)}}
    state = thresholds.init("freematch", 3, 6) | {  # + the source-free banks
        "features": jnp.array(unit(rng.normal(size=(6, 4)))),
        "scores": jax.nn.softmax(jnp.array(rng.normal(size=(6, 3)))),
        "pseudo": jnp.array([0, 1, 2, 2, 1, 0]),
    }
    seen = set()
    for name in CONFIGS:
        config = config_lib.load(f"configs/{name}.py")
        section = methods.module(name).SECTION
        options = ml_collections.FrozenConfigDict(config[section]) if section else None
        ctx = Context(jnp.array(0), jnp.array(0.5), state, options, ("angry", "happy", "sad"))
        for fn_name, fn in methods.term_registry(name).items():
            value, _ = Term(fn)(out, batch, ctx)
            assert np.isfinite(float(value)), (name, fn_name)
            seen.add(fn_name)
    # shared, Emo-DNA, DIDAN, source-free, MSAC
    assert len(seen) == 7 + 4 + 4 + 6 + 5 and set(terms.TERMS) <= seen


SPACES = {  # label space -> (classes, target utterances of the small synth_casia render)
    "categorical": (["angry", "fear", "happy", "neutral", "sad"], 100),
    "arousal": (["high", "low"], 120),
}


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("name", CONFIGS)
def test_tiny_end_to_end_run(small_data_dir, tmp_path, name, space):
    config = tiny_config(name, small_data_dir, f"data.label_space={space}")
    r = experiment.train(config, tmp_path / name, progress=False)
    saved = json.loads((tmp_path / name / "results.json").read_text())
    assert RESULT_KEYS <= set(saved) and saved == json.loads(json.dumps(r))
    assert saved["method"] == name and saved["steps"] == 4 and saved["selection"] == "last"
    classes, n_target = SPACES[space]
    assert saved["classes"] == classes and saved["label_space"] == space
    assert list(saved["label_mapping"]) == classes
    assert sum(map(sum, saved["confusion"])) == n_target  # every target utterance, once
    assert 0.0 <= saved["uar"] <= 1.0
    rows = [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").open()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == [1, 2, 3, 4]
    if name == "emodna":  # pseudo-label monitoring at each evaluation
        (final,) = [r for r in rows if r["kind"] == "eval"]
        assert 0.0 <= final["pseudo/accepted_share"] <= 1.0
        assert {f"pseudo/threshold_{c}" for c in range(len(classes))} <= set(final)
    assert (tmp_path / name / "confusion.png").stat().st_size > 0


def test_evaluate_reproduces_the_run_from_its_checkpoint(small_data_dir, tmp_path):
    from jaxser import evaluate

    config = tiny_config("coral", small_data_dir, "train.evaluators=source")
    trained = experiment.train(config, tmp_path, progress=False)
    assert set(trained["source"]) >= {"uar", "war", "confusion"}  # the added evaluator
    assert (
        sum(map(sum, trained["source"]["confusion"])) == 150
    )  # every source utterance (5 classes x 30)
    (tmp_path / "results.json").unlink()
    again = evaluate.evaluate(tmp_path)
    assert again == trained
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(again))
    for png in ("confusion.png", "features.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"


def _params(workdir):
    mngr = ocp.CheckpointManager((workdir / "checkpoints").resolve())
    return mngr.latest_step(), mngr.restore(mngr.latest_step(), args=ocp.args.StandardRestore())[
        "params"
    ]


def test_ctrl_c_a_damaged_checkpoint_and_a_torn_log_line_resume_as_if_uninterrupted(
    small_data_dir, tmp_path, monkeypatch, capsys
):
    """Ctrl-C stops in one line; a kill then cuts the newest checkpoint and the
    last metrics line short; the rerun warns in one line, resumes from the
    previous checkpoint and ends with the uninterrupted run's parameters. Also:
    evaluations inside fit (eval_every), and the state `fit` leaves in the
    experiment is the final one, alive (the step donated the others)."""
    from jaxser import train as train_cli
    from jaxser.training import writers

    own = ("train.checkpoint_every=1", "train.eval_every=2")
    config = tiny_config("dann", small_data_dir, *own)
    whole, split = tmp_path / "whole", tmp_path / "split"
    experiment.train(config, whole, progress=False)
    assert [r["step"] for r in writers.read(whole, "eval")] == [2, 4]  # periodic + final

    stream = loop.batches

    def ctrl_c_at_step_4(exp, start):
        for step, batch in enumerate(stream(exp, start), start):
            if step == 4:  # the loop takes batch 4 while step 3 computes (one ahead)
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(loop, "batches", ctrl_c_at_step_4)
    overrides = [*TINY, f"data.data_dir={small_data_dir}", *own]
    argv = ["--config", "configs/dann.py", "--workdir", str(split), "--no_progress",
            "--defaults", *[f"--config.{o}" for o in overrides]]  # fmt: skip
    with pytest.raises(SystemExit) as e:
        train_cli.main(argv)
    assert e.value.code == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"interrupted at step 3 of {split} (its last checkpoint is step 3); "
        "run the same command to resume"
    )
    assert "Traceback" not in err
    monkeypatch.setattr(loop, "batches", stream)

    data = split / "checkpoints" / "3" / "default" / "ocdbt.process_0" / "d"
    victim = max(data.iterdir(), key=lambda f: f.stat().st_size)
    victim.write_bytes(victim.read_bytes()[:100])
    with (split / "metrics.jsonl").open("a") as f:
        f.write('{"step": 4, "kind": "tr')
    exp = experiment.setup(config)
    steps, results = loop.fit(exp, split, progress=False)
    err = capsys.readouterr().err
    assert f"warning: checkpoint {split.resolve() / 'checkpoints' / '3'} does not read back" in err
    assert "moved the damaged checkpoint of step 3" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 4
    assert steps == 4 and results["classification"]["uar"] > 0
    assert not any(x.is_deleted() for x in jax.tree.leaves(exp.state.as_dict()))
    assert int(exp.state.step) == 4
    (sa, a), (sb, b) = _params(whole), _params(split)
    assert sa == sb == 4
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)
    rows = writers.read(split)  # the torn line was cut off before the rerun appended
    assert [r["step"] for r in rows if r["kind"] == "train"] == [1, 2, 3, 3, 4]


def test_workdir_of_another_config_is_refused(small_data_dir, tmp_path):
    config = tiny_config("source_only", small_data_dir)
    experiment.train(config, tmp_path, max_steps=2, progress=False)  # checkpoint at step 2
    with pytest.raises(config_lib.ConfigError, match=r"different config.*train.learning_rate"):
        experiment.train(
            tiny_config("source_only", small_data_dir, "train.learning_rate=0.5"),
            tmp_path,
            progress=False,
        )


def nan_from_step_5(out, batch, ctx):
    return jnp.where(ctx.step >= 5, jnp.nan, 0.0)


def test_nan_stops_with_step_and_terms_keeping_last_good_checkpoint(small_data_dir, tmp_path):
    """The losses are checked every 4 steps (log and checkpoint): the check of
    steps 5-8 names step 6, the first NaN, and the state of step 8 is never saved."""
    own = ("train.steps=8", "train.log_every=4", "train.checkpoint_every=4")
    config = tiny_config("source_only", small_data_dir, *own)
    base = methods.build(config, CLASSES, 100)
    method = dataclasses.replace(base, terms={**base.terms, "bad": Term(nan_from_step_5)})
    with pytest.raises(
        loop.NonFiniteLoss, match=r"at step 6 \(checked steps 5-8\).*loss/bad.*nan.*step 4\)"
    ):
        experiment.train(config, tmp_path, method=method, progress=False)
    step, params = _params(tmp_path)
    assert step == 4 and all(np.isfinite(x).all() for x in jax.tree.leaves(params))


def test_pretrain_stage_starts_the_run_and_is_shared(small_data_dir, tmp_path, capsys):
    from jaxser.training import checkpoints

    stage = ("train.pretrain=configs/source_only.py", "train.pretrain_steps=2")
    cache = f"train.pretrain_cache={tmp_path / 'models'}"
    config = tiny_config("dann", small_data_dir, *stage, cache)
    pre_dir = stages.pretrain_workdir(config)
    assert pre_dir.parent == tmp_path / "models"
    first = experiment.train(config, tmp_path / "dann", progress=False)
    assert f"start from trained stage {pre_dir}" in capsys.readouterr().err
    pre = json.loads((pre_dir / "results.json").read_text())
    assert (pre["method"], pre["steps"]) == ("source_only", 2)
    assert first["before_adaptation"] == {
        k: pre[k] for k in ("uar", "war", "macro_f1", "pred_balance")
    } | {"from": str(pre_dir)}
    # another method with the same data, model and seed starts from the same stage
    mmd = tiny_config("mmd", small_data_dir, *stage, cache)
    assert stages.pretrain_workdir(mmd) == pre_dir
    second = experiment.train(mmd, tmp_path / "mmd", progress=False)
    assert f"start from reused stage {pre_dir}" in capsys.readouterr().err
    assert second["before_adaptation"] == first["before_adaptation"]
    # another seed is another stage
    other = tiny_config("dann", small_data_dir, *stage, cache, "seed=1")
    assert stages.pretrain_workdir(other) != pre_dir

    _, pre_params = _params(pre_dir)
    fresh = build("dann", small_data_dir).state
    started = checkpoints.start_from(fresh, pre_dir)
    # shared parts come from the stage; the discriminator (not in the stage) stays fresh
    np.testing.assert_array_equal(
        started.params["backbone"]["Conv_0"]["kernel"], pre_params["backbone"]["Conv_0"]["kernel"]
    )
    assert not np.array_equal(
        fresh.params["backbone"]["Conv_0"]["kernel"], pre_params["backbone"]["Conv_0"]["kernel"]
    )
    np.testing.assert_array_equal(
        started.params["discriminator"]["Dense_0"]["kernel"],
        fresh.params["discriminator"]["Dense_0"]["kernel"],
    )


def test_bfloat16_compute_keeps_float32_params_and_loss(tmp_path):
    logs = {}
    for dtype in ("float32", "bfloat16"):
        exp = build("emodna", tmp_path, f"model.compute_dtype={dtype}")
        state, logs[dtype] = exp.step(exp.state, fake_batch())
        assert {x.dtype for x in jax.tree.leaves(state.params)} == {jnp.dtype("float32")}
        assert logs[dtype]["loss"].dtype == jnp.float32
    np.testing.assert_allclose(logs["bfloat16"]["loss"], logs["float32"]["loss"], rtol=2e-2)
    assert float(logs["bfloat16"]["loss"]) != float(logs["float32"]["loss"])  # really bf16


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_optimizers_reduce_the_loss_on_a_fixed_batch(tmp_path, optimizer):
    exp = build(
        "source_only",
        tmp_path,
        f"train.optimizer={optimizer}",
        "train.learning_rate=0.05",
        "train.steps=20",
        "train.warmup_steps=1",
        "model.dropout=0.0",
    )
    state, batch = exp.state, fake_batch()
    losses = []
    for _ in range(12):
        state, logs = exp.step(state, batch)
        losses.append(float(logs["loss/cls"]))
    # step 0 runs at learning rate 0 (warm-up); after it the loss must fall steadily
    assert losses[1] == losses[0]
    assert losses[-1] < losses[1] - 0.1 and all(np.diff(losses[1:]) < 1e-6), losses
