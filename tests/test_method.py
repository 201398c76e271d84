"""The wider Method, each part through a tiny method that uses it: target-only
halves, named schedules, learning-rate multipliers and frozen parameters, state
filled from a prediction pass and refreshed on the host, added evaluators."""

import dataclasses
import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest
from test_train import CLASSES, fake_batch
from tiny import tiny_config

from jaxser import experiment, methods
from jaxser.losses import grad_reverse
from jaxser.methods import schedules, terms
from jaxser.methods.base import Method, Term
from jaxser.training import optim


def tiny_method(config, **parts) -> Method:
    """source_only's model and terms, with `parts` replaced."""
    return dataclasses.replace(methods.build(config, CLASSES, 100), **parts)


def test_a_target_only_method_refuses_a_source_half_and_runs_without_one(small_data_dir, tmp_path):
    config = tiny_config("source_only", small_data_dir)
    method = tiny_method(
        config, halves="target", terms={"ent": Term(terms.target_entropy)}, name="tiny_sf"
    )
    exp = experiment.build(config, CLASSES, 100, method=method)
    with pytest.raises(ValueError, match="target only.*source half"):
        exp.step(exp.state, fake_batch())
    target_only = {"target": fake_batch()["target"]}
    state, logs = exp.step(exp.state, target_only)
    assert int(state.step) == 1 and set(logs) >= {"loss/ent", "loss"}
    # end to end: the loop feeds target halves only
    r = experiment.train(config, tmp_path, method=method, progress=False)
    assert r["steps"] == 4 and sum(map(sum, r["confusion"])) == 100


class TwoReversals(nn.Module):
    """Two heads on the same features, each behind its own gradient reversal."""

    @nn.compact
    def __call__(self, x, mask, *, train, speaker_grl=0.0, corpus_grl=0.0):
        h = nn.Dense(4, name="trunk")(x.mean(1))
        return {
            "logits": nn.Dense(len(CLASSES), name="classifier")(h),
            "features": h,
            "speaker": nn.Dense(1, name="speaker")(grad_reverse(h, speaker_grl)),
            "corpus": nn.Dense(1, name="corpus")(grad_reverse(h, corpus_grl)),
        }


def head_term(head):
    def fn(out, batch, ctx):
        return jnp.mean(out["source"][head] ** 2)

    return fn


def test_each_reversal_and_each_ramped_weight_follows_its_own_schedule(tmp_path):
    config = tiny_config("source_only", tmp_path, "train.learning_rate=0.1", "train.warmup_steps=0")
    named = {
        "speaker": lambda p: 0.5 * jnp.ones(()),
        "corpus": lambda p: 2.0 + p,
        "weight_ramp": lambda p: 3.0 * jnp.ones(()),
    }
    method = Method(
        "tiny_grl",
        TwoReversals(),
        {
            "spk": Term(head_term("speaker"), 1.0, "weight_ramp"),
            "cor": Term(head_term("corpus"), 1.0),
        },
        schedules=named,
        model_schedules={"speaker_grl": "speaker", "corpus_grl": "corpus"},
    )
    exp = experiment.build(config, CLASSES, 100, method=method)
    batch = fake_batch()
    before = jax.device_get(exp.state.params)
    state, logs = exp.step(exp.state, batch)
    assert float(logs["schedule/speaker"]) == 0.5 and float(logs["schedule/corpus"]) == 2.0
    np.testing.assert_allclose(logs["loss"], 3.0 * logs["loss/spk"] + logs["loss/cor"], rtol=1e-6)

    # The trunk's gradient: -0.5 * 3 * d(spk)/dh - 2 * d(cor)/dh (reversal times weight)
    def head_loss(trunk, head, lam_weight):
        p = dict(before) | {"trunk": trunk}
        # strength -1: the reversal passes the plain gradient; the sign is applied below
        x = batch["source"]["x"]
        out = method.model.apply({"params": p}, x, None, train=True, speaker_grl=-1, corpus_grl=-1)
        return lam_weight * jnp.mean(out[head] ** 2)

    g = jax.grad(lambda t: -0.5 * head_loss(t, "speaker", 3.0) - 2.0 * head_loss(t, "corpus", 1.0))(
        before["trunk"]
    )
    # first AdamW step moves each parameter by lr * sign(g) (plus weight decay)
    moved = jax.device_get(state.params["trunk"]["kernel"]) - before["trunk"]["kernel"]
    decay = 0.1 * config.train.weight_decay * before["trunk"]["kernel"]
    np.testing.assert_allclose(moved + decay, -0.1 * np.sign(g["kernel"]), atol=1e-3)


def test_schedules_from_the_config():
    built = schedules.build(
        {
            "a": {"kind": "sigmoid", "gamma": 10.0, "scale": 2.0},
            "b": {"kind": "linear", "start": 0.2, "end": 0.6},
            "c": {"kind": "inverse_power", "gamma": 10.0, "power": 5.0},
            "d": {"kind": "constant", "value": 0.3},
        }
    )
    p = jnp.array(0.4)
    np.testing.assert_allclose(built["a"](p), 2 * (2 / (1 + np.exp(-4.0)) - 1), rtol=1e-6)
    np.testing.assert_allclose(built["b"](p), 0.5, rtol=1e-6)
    np.testing.assert_allclose(built["c"](p), 5.0**-5, rtol=1e-5)
    np.testing.assert_allclose(built["d"](p), 0.3, rtol=1e-6)


def test_frozen_parameters_and_learning_rate_multipliers(tmp_path):
    config = tiny_config("source_only", tmp_path, "train.warmup_steps=0")

    def step_once(rules):
        method = tiny_method(config, lr_multipliers=rules)
        exp = experiment.build(config, CLASSES, 100, method=method)
        before = jax.device_get(exp.state.params)
        state, _ = exp.step(exp.state, fake_batch())
        after = jax.device_get(state.params)
        return before, jax.tree.map(np.subtract, after, before), state.opt_state

    before, full, _ = step_once(((r"^classifier/", 0.0),))
    _, half, opt_state = step_once(((r"^classifier/", 0.0), (r"^backbone/", 0.5)))
    # frozen: not moved, and no optimizer moments kept for it
    assert all(np.all(d == 0) for d in jax.tree.leaves(full["classifier"]))
    assert all(np.all(d == 0) for d in jax.tree.leaves(half["classifier"]))
    assert any(np.any(d != 0) for d in jax.tree.leaves(full["bottleneck"]))
    kept = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(opt_state)]
    assert not any("classifier" in k for k in kept) and any("bottleneck" in k for k in kept)
    # multiplier 0.5: half the update of the same step at multiplier 1
    for a, b in zip(
        jax.tree.leaves(half["backbone"]), jax.tree.leaves(full["backbone"]), strict=True
    ):
        # (updates read back as float32 differences of parameters: atol of their rounding)
        np.testing.assert_allclose(a, 0.5 * b, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(half["bottleneck"]["kernel"], full["bottleneck"]["kernel"])
    # the same from the config, by regex over "/"-joined paths
    assert optim.parse_multipliers("classifier=0, backbone/Conv_0=0.1") == (
        ("classifier", 0.0),
        ("backbone/Conv_0", 0.1),
    )
    mult = optim.multipliers(before, optim.parse_multipliers("classifier=0"))
    assert mult["classifier"]["Dense_0"]["kernel"] == 0.0 and mult["bottleneck"]["kernel"] == 1.0


BANK = 8  # feature-bank width of the tiny memory-bank method


def bank_method(config, seen: list) -> Method:
    """A memory bank of target features: filled by one prediction pass before the
    first step, rows overwritten at the batch's indices in each step, and a
    host-side refresh every 2 steps that counts itself."""

    def init_state():
        return {
            "bank": jnp.zeros((100, BANK)),
            "refreshes": jnp.zeros((), jnp.int32),
            "last_refresh": jnp.zeros((), jnp.int32),
        }

    def fill_state(state, target):
        seen.append(("fill", sorted(target), target["features"].shape))
        return state | {"bank": jnp.asarray(target["features"][:, :BANK], jnp.float32)}

    def update_state(state, out, batch, ctx):
        rows = out["target"]["features"][:, :BANK]
        return state | {"bank": state["bank"].at[batch["target"]["index"]].set(rows)}

    def refresh(state, target, step):
        seen.append(("refresh", step))
        return state | {"refreshes": state["refreshes"] + 1, "last_refresh": np.int32(step)}

    return tiny_method(
        config,
        init_state=init_state,
        fill_state=fill_state,
        update_state=update_state,
        refresh_every=2,
        refresh=refresh,
        evaluators={"bank": lambda preds: {"n_test": int(len(preds("target_test")["labels"]))}},
    )


def _method_state(workdir):
    mngr = ocp.CheckpointManager((workdir / "checkpoints").resolve())
    return mngr.restore(mngr.latest_step(), args=ocp.args.StandardRestore())["method_state"]


def test_state_filled_by_a_prediction_pass_refreshed_and_checkpointed(small_data_dir, tmp_path):
    config = tiny_config("source_only", small_data_dir)
    seen = []
    r = experiment.train(
        config, tmp_path / "whole", method=bank_method(config, seen), progress=False
    )
    # one pass over the 100 target utterances, without labels, before the first step
    assert seen[0] == ("fill", ["features", "logits", "probs"], (100, 16))
    assert seen[1:] == [("refresh", 2)]  # every 2 steps, from step 2 on (step 0: the fill)
    whole = _method_state(tmp_path / "whole")
    assert int(whole["refreshes"]) == 1 and int(whole["last_refresh"]) == 2
    assert np.all(np.abs(whole["bank"]).sum(1) > 0)  # every row filled
    # an evaluator the method added: in results.json and in the eval log line
    assert r["bank"] == {"n_test": 100}
    rows = [json.loads(x) for x in (tmp_path / "whole" / "metrics.jsonl").open()]
    assert [x["bank/n_test"] for x in rows if x["kind"] == "eval"] == [100]
    # killed after 2 steps and resumed: the bank is restored, not filled again
    seen.clear()
    method = bank_method(config, seen)
    experiment.train(config, tmp_path / "split", method=method, max_steps=2, progress=False)
    experiment.train(config, tmp_path / "split", method=method, progress=False)
    assert [s[0] for s in seen] == ["fill", "refresh"]
    split = _method_state(tmp_path / "split")
    for key in whole:
        np.testing.assert_array_equal(split[key], whole[key], err_msg=key)
