"""Emo-DNA: decoupling loss, thresholds, warm-up, TIM-Net."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxser import config as config_lib
from jaxser import experiment, models
from jaxser.losses import contrastive
from jaxser.methods import emodna, thresholds
from jaxser.methods.base import Context


def supcon_reference(z, labels, valid, t, extra):
    n = len(z)
    losses = []
    for i in range(n):
        if not valid[i]:
            continue
        others = [j for j in range(n) if j != i]
        denom = np.log(
            sum(np.exp(z[i] @ z[j] / t) for j in others) + sum(np.exp(z[i] @ c / t) for c in extra)
        )
        pos = [j for j in others if valid[j] and labels[j] == labels[i]]
        if pos:
            losses.append(-np.mean([z[i] @ z[j] / t - denom for j in pos]))
    return np.mean(losses) if losses else 0.0


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_supcon_matches_reference():
    rng = np.random.default_rng(0)
    z, extra = unit(rng.normal(size=(8, 4))), unit(rng.normal(size=(5, 4)))
    labels = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    valid = np.array([1, 1, 1, 1, 1, 0, 1, 0], bool)
    got = contrastive.supervised_contrastive(
        jnp.array(z), jnp.array(labels), jnp.array(valid), 0.1, jnp.array(extra)
    )
    np.testing.assert_allclose(got, supcon_reference(z, labels, valid, 0.1, extra), rtol=1e-5)


def test_decoupling_loss_falls_as_features_decouple_and_cluster():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 4)
    valid = np.ones(12, bool)

    def loss(z_e, z_c):
        return float(
            contrastive.supervised_contrastive(
                jnp.array(unit(z_e)), jnp.array(labels), jnp.array(valid), 0.1, jnp.array(unit(z_c))
            )
        )

    centers = np.eye(6)[:3]  # class directions in dims 0-2
    corpus_dir = np.eye(6)[3:4]  # corpus direction in dim 3
    noise = rng.normal(size=(12, 6))
    entangled = loss(noise, noise + 0.1 * rng.normal(size=(12, 6)))  # z_c ~ z_e, no clusters
    clustered_entangled = loss(centers[labels] + 0.3 * noise, centers[labels] + 0.3 * noise)
    clustered_orthogonal = loss(
        centers[labels] + 0.05 * noise[:, :3].repeat(2, 1),
        np.repeat(corpus_dir, 12, 0) + 0.05 * noise,
    )
    assert entangled > clustered_entangled > clustered_orthogonal
    # 3 positives per anchor among 11 other rows + 12 corpus rows: the loss nears its floor
    assert clustered_orthogonal < 1.5


def test_orthogonality():
    a = jnp.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    b = jnp.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert float(contrastive.orthogonality(a, b)) == 0.0
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    expected = np.sum((x.T @ y) ** 2) / 25
    assert float(contrastive.orthogonality(jnp.array(x), jnp.array(y))) == pytest.approx(
        expected, rel=1e-5
    )


def test_freematch_thresholds_follow_their_ema_formula():
    c, m = 3, 0.9
    state = thresholds.init("freematch", c, 10)
    np.testing.assert_allclose(state["tau"], 1 / 3)
    np.testing.assert_allclose(state["p_model"], [1 / 3] * 3)
    p1 = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]], np.float32)
    p2 = np.array([[0.2, 0.2, 0.6], [0.5, 0.3, 0.2]], np.float32)
    tau, pbar = 1 / 3, np.full(3, 1 / 3)
    for p in (p1, p2):
        state = thresholds.update(state, jnp.array(p), jnp.array([0, 1]), "freematch", m, 0.95)
        tau = m * tau + (1 - m) * p.max(1).mean()
        pbar = m * pbar + (1 - m) * p.mean(0)
    np.testing.assert_allclose(state["tau"], tau, rtol=1e-6)
    np.testing.assert_allclose(state["p_model"], pbar, rtol=1e-6)
    th = thresholds.thresholds(state, "freematch", c, 0.95)
    np.testing.assert_allclose(th, tau * pbar / pbar.max(), rtol=1e-6)


def test_flexmatch_and_fixed_thresholds():
    state = thresholds.init("flexmatch", 2, 6)
    probs = jnp.array([[0.99, 0.01], [0.98, 0.02], [0.2, 0.8], [0.03, 0.97]])
    state = thresholds.update(state, probs, jnp.array([0, 1, 2, 3]), "flexmatch", 0.9, 0.95)
    np.testing.assert_array_equal(state["selected"], [0, 0, -1, 1, -1, -1])
    # sigma = (2, 1), unused = 3 -> beta = (2/3, 1/3), threshold = 0.95 * beta / (2 - beta)
    beta = np.array([2 / 3, 1 / 3])
    np.testing.assert_allclose(
        thresholds.thresholds(state, "flexmatch", 2, 0.95), 0.95 * beta / (2 - beta), rtol=1e-6
    )
    np.testing.assert_allclose(thresholds.thresholds(state, "fixed", 2, 0.95), [0.95, 0.95])
    with pytest.raises(ValueError, match="known"):
        thresholds.init("softmatch", 2, 6)


def test_no_pseudo_label_before_warmup():
    options = config_lib.load("configs/emodna.py").emodna
    state = thresholds.init("freematch", 3, 10)
    out = {"target": {"logits": jnp.array([[9.0, 0.0, 0.0], [0.0, 9.0, 0.0]])}}
    for progress, expected in ((0.0, False), (0.09, False), (0.1, True), (0.5, True)):
        ctx = Context(jnp.array(0), jnp.array(progress), state, options, ("angry", "happy", "sad"))
        label, accepted = emodna.pseudo_labels(out, ctx)
        np.testing.assert_array_equal(label, [0, 1])
        assert bool(accepted.all()) is expected and bool(accepted.any()) is expected


def test_timnet_shapes_and_masked_pooling():
    m = models.TIMNet(features=8, num_blocks=3)
    x = jnp.array(np.random.default_rng(0).normal(size=(2, 20, 39)), jnp.float32)
    mask = jnp.ones((2, 20), bool)
    v = m.init(jax.random.key(0), x, mask, train=False)
    out = m.apply(v, x, mask, train=False)
    assert out.shape == (2, 8)
    # dilations 1, 2, 4: each block's causal conv reaches 2**j frames back
    dilations = [v["params"][f"fwd{j}"]["conv0"]["kernel"].shape for j in range(3)]
    assert dilations == [(2, 8, 8)] * 3
    # zero padding beyond the mask changes nothing in the forward-only part's pooling
    short = mask.at[:, 15:].set(False)
    padded = x.at[:, 15:].set(0.0)
    a = m.apply(v, padded, short, train=False)
    b = m.apply(v, jnp.pad(padded[:, :15], ((0, 0), (0, 5), (0, 0))), short, train=False)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_emodna_config_lists_every_decision():
    doc = emodna.__doc__
    c = config_lib.load("configs/emodna.py")
    for key in ("threshold", "threshold_momentum", "threshold_horizon", "pl_warmup"):
        assert f"`{key}`" in doc and key in c.emodna
    assert "`fixed_threshold`" in doc and "`temperature`" in doc and "temperature" in c.terms.cd
    for fn in (
        "contrastive_decoupling",
        "orthogonality",
        "corpus_classification",
        "pseudo_label",
        "diversity",
    ):
        assert fn in doc
    assert set(c.terms) == {"cls", "cd", "orth", "adv", "corpus", "pl", "div"}
    for threshold, (cd, orth) in itertools.product(
        ("freematch", "flexmatch", "fixed"), ((0.1, 0.0), (0.0, 0.1))
    ):
        experiment.check(
            config_lib.load(
                "configs/emodna.py",
                [f"emodna.threshold={threshold}", f"terms.cd.weight={cd}"]
                + [f"terms.orth.weight={orth}"],
            )
        )
    with pytest.raises(config_lib.ConfigError, match="known: .*freematch"):
        experiment.check(config_lib.load("configs/emodna.py", ["emodna.threshold=softmatch"]))


def test_threshold_momentum_follows_the_run_length():
    c = config_lib.load("configs/emodna.py")  # momentum 0: derived from 0.1 * steps
    assert emodna.threshold_momentum(c) == pytest.approx(1 - 1 / 30)
    c = config_lib.load("configs/emodna.py", ["train.steps=100000"])
    assert emodna.threshold_momentum(c) == 0.999  # capped at the paper's value
    c = config_lib.load("configs/emodna.py", ["emodna.threshold_momentum=0.99"])
    assert emodna.threshold_momentum(c) == 0.99  # a positive value is used as given
    # after horizon * steps steps of constant confidence the EMA has moved 1 - 1/e of the way
    m = emodna.threshold_momentum(config_lib.load("configs/emodna.py"))
    state = thresholds.init("freematch", 4, 1)
    probs = jnp.tile(jnp.array([[0.7, 0.1, 0.1, 0.1]]), (8, 1))
    for _ in range(30):
        state = thresholds.update(state, probs, jnp.zeros(8, jnp.int32), "freematch", m, 0.95)
    moved = (float(state["tau"]) - 0.25) / (0.7 - 0.25)
    assert moved == pytest.approx(1 - np.exp(-1), abs=0.01)
