"""MSAC-SERNet: AM-softmax against numpy, attentive statistics pooling under
padding, the speaker and corpus reversals on their own schedules."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tiny import tiny_config

from jaxser import experiment
from jaxser.data import batch as batch_lib
from jaxser.losses import classification
from jaxser.models.msac import AttentiveStatsPool

CLASSES = ("angry", "fear", "happy", "neutral", "sad")


def test_am_softmax_against_numpy_margin_on_the_true_class_only():
    r = np.random.default_rng(0)
    cos = np.tanh(r.normal(size=(4, 3)))
    labels = np.array([0, 2, 1, 2])
    s, m = 30.0, 0.2
    expected = []
    for c, y in zip(cos, labels, strict=True):
        logits = s * c.copy()
        logits[y] = s * (c[y] - m)  # the margin: true class only
        expected.append(-(logits[y] - np.log(np.exp(logits - logits.max()).sum()) - logits.max()))
    got = classification.am_softmax(jnp.array(cos), jnp.array(labels), s, m)
    assert float(got) == pytest.approx(np.mean(expected), rel=1e-5)
    # margin 0: plain CE of the scaled cosines
    plain = classification.cross_entropy(jnp.array(s * cos), jnp.array(labels))
    assert float(classification.am_softmax(jnp.array(cos), jnp.array(labels), s, 0.0)) == (
        pytest.approx(float(plain), rel=1e-6)
    )


def test_inference_logits_carry_no_margin(tmp_path):
    exp = experiment.build(tiny_config("msac", tmp_path), CLASSES, 100)
    b = batch_lib.random(4, 100, 64, 5)["target"]
    v = {"params": exp.state.params, "batch_stats": exp.state.batch_stats}
    out = exp.method.model.apply(v, b["x"], b["mask"], train=False)
    np.testing.assert_allclose(out["logits"], 30.0 * out["cosine"], rtol=1e-6)
    assert np.all(np.abs(out["cosine"]) <= 1.0 + 1e-6)


def test_attentive_pooling_ignores_padding():
    r = np.random.default_rng(1)
    h = jnp.array(r.normal(size=(2, 7, 5)), jnp.float32)
    mask = jnp.array([[True] * 4 + [False] * 3, [True] * 7])
    pool = AttentiveStatsPool(8)
    params = pool.init(jax.random.key(0), h, mask)
    a = pool.apply(params, h, mask)
    noisy = h.at[0, 4:].set(1e3)  # padding frames changed
    b = pool.apply(params, noisy, mask)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    short = pool.apply(params, h[:1, :4], mask[:1, :4])  # the same utterance, unpadded
    np.testing.assert_allclose(a[:1], short, rtol=1e-5, atol=1e-6)


def _backbone_grad(exp, term):
    """|gradient| of the backbone's first kernel under `term` alone."""
    batch = batch_lib.random(8, 100, 64, 5)
    batch["source"]["speaker"] = jnp.arange(8) % 3
    method = exp.method

    def loss(params, speaker_lambda, grl_lambda):
        x = jnp.concatenate([batch["source"]["x"], batch["target"]["x"]])
        m = jnp.concatenate([batch["source"]["mask"], batch["target"]["mask"]])
        out, _ = method.model.apply(
            {"params": params, "batch_stats": exp.state.batch_stats},
            x,
            m,
            train=True,
            rngs={"dropout": jax.random.key(0)},
            mutable=["batch_stats"],
            speaker_lambda=speaker_lambda,
            grl_lambda=grl_lambda,
        )
        out = {
            k: jax.tree.map(lambda a, s=s: a[s], out)
            for k, s in (("source", slice(0, 8)), ("target", slice(8, 16)))
        }
        return method.terms[term](out, batch, None)[0]

    def grad(sl, gl):
        g = jax.grad(loss)(exp.state.params, sl, gl)
        return float(jnp.abs(g["backbone"]["Conv_0"]["kernel"]).sum())

    return grad


def test_speaker_and_corpus_reversals_follow_their_own_schedules(tmp_path):
    exp = experiment.build(tiny_config("msac", tmp_path), CLASSES, 100)
    assert exp.method.model_schedules == {"grl_lambda": "grl", "speaker_lambda": "speaker_grl"}
    speaker = _backbone_grad(exp, "speaker")
    assert speaker(0.0, 1.0) == 0.0 and speaker(1.0, 0.0) > 0.0  # only speaker_lambda acts
    corpus = _backbone_grad(exp, "adv")
    assert corpus(1.0, 0.0) == 0.0 and corpus(0.0, 1.0) > 0.0  # only grl_lambda acts
    # the step logs both schedules, each from its own config entry
    config = tiny_config("msac", tmp_path, "schedules.speaker_grl.scale=0.3")
    exp = experiment.build(config, CLASSES, 100)
    state = exp.state.replace(step=jnp.asarray(4, exp.state.step.dtype))  # progress 1
    _, logs = exp.step(state, batch_lib.random(8, 100, 64, 5))
    sigmoid = 2 / (1 + np.exp(-10.0)) - 1
    assert float(logs["schedule/speaker_grl"]) == pytest.approx(0.3 * sigmoid, rel=1e-5)
    assert float(logs["schedule/grl"]) == pytest.approx(sigmoid, rel=1e-5)


def test_tiny_single_corpus_run_with_ood_classes(small_data_dir, tmp_path):
    config = tiny_config(
        "msac",
        small_data_dir,
        "data.protocol=loso",
        "data.target=",
        "data.fold=0",
        "data.ood_classes=boredom,disgust",
        "terms.adv.weight=0",
    )
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert (r["method"], r["protocol"], r["fold"]) == ("msac", "loso", 0)
    assert r["classes"] == list(CLASSES)
    assert r["ood"]["n_out"] == 6 and 0.0 <= r["ood"]["odin"]["auroc"] <= 1.0
