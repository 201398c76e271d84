"""MSAC-SERNet: AM-softmax against numpy, attentive statistics pooling under
padding, the speaker and corpus reversals on their own schedules, the
orthogonal control, residual blocks, the max-cosine OOD score."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, predict
from jaxser.data import batch as batch_lib
from jaxser.evaluation import ood
from jaxser.evaluation.predict import Predictions
from jaxser.losses import classification
from jaxser.methods import msac as msac_method
from jaxser.models.cnn import CNN
from jaxser.models.msac import AttentiveStatsPool

CLASSES = ("angry", "fear", "happy", "neutral", "sad")
LOSO_OOD = ("data.protocol=loso", "data.target=", "data.fold=0", "data.ood_classes=boredom,disgust")


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
    config = tiny_config("msac", small_data_dir, *LOSO_OOD, "terms.adv.weight=0")
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert (r["method"], r["protocol"], r["fold"]) == ("msac", "loso", 0)
    assert r["classes"] == list(CLASSES)
    assert r["ood"]["n_out"] == 6 and 0.0 <= r["ood"]["odin"]["auroc"] <= 1.0
    assert 0.0 <= r["ood"]["max_cosine"]["auroc"] <= 1.0
    # predict from an MSAC run (AM-softmax head, residual blocks, attribute heads)
    audio = sorted((small_data_dir / "synth_emodb" / "audio").rglob("*.wav"))[:2]
    out = predict.predict_files(tmp_path / "run", [str(a) for a in audio])
    assert out["classes"] == list(CLASSES) and len(out["predictions"]) == 2
    for p in out["predictions"]:
        assert sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_orthogonal_control_speaker_head_on_its_own_embedding(tmp_path):
    exp = experiment.build(tiny_config("msac_orth", tmp_path), CLASSES, 100)
    assert "attribute_embedding" in exp.state.params
    speaker = _backbone_grad(exp, "speaker")
    assert speaker(0.0, 0.0) > 0.0  # no reversal: the speaker CE trains the backbone as is
    assert speaker(0.0, 0.0) == pytest.approx(speaker(1.0, 0.0), rel=1e-6)  # lambda ignored
    assert _backbone_grad(exp, "orth")(0.0, 0.0) > 0.0


CONFUSION = ("msac.control=confusion", "terms.confusion.weight=0.3")


def test_confusion_control_moves_the_embedding_only_and_its_head_only_by_its_ce(tmp_path):
    """Confusion (Alvi et al. 2018): the speaker head's CE never reaches the
    backbone, the confusion term reaches only the backbone, never the head."""
    exp = experiment.build(tiny_config("msac", tmp_path, *CONFUSION), CLASSES, 100)
    assert _backbone_grad(exp, "speaker")(1.0, 0.0) == 0.0  # the head reads a stopped z
    assert _backbone_grad(exp, "confusion")(0.0, 0.0) > 0.0
    batch = batch_lib.random(8, 100, 64, 5)
    batch["source"]["speaker"] = jnp.arange(8) % 3
    variables = {"params": exp.state.params, "batch_stats": exp.state.batch_stats}

    def term_loss(params, term):
        x = jnp.concatenate([batch["source"]["x"], batch["target"]["x"]])
        m = jnp.concatenate([batch["source"]["mask"], batch["target"]["mask"]])
        out = exp.method.model.apply({**variables, "params": params}, x, m, train=False)
        out = {
            k: jax.tree.map(lambda a, s=s: a[s], out)
            for k, s in (("source", slice(0, 8)), ("target", slice(8, 16)))
        }
        return exp.method.terms[term](out, batch, None)[0], out

    g, out = jax.grad(term_loss, has_aux=True)(exp.state.params, "confusion")
    assert float(jnp.abs(g["speaker_head"]["kernel"]).sum()) == 0.0
    g, _ = jax.grad(term_loss, has_aux=True)(exp.state.params, "speaker")
    assert float(jnp.abs(g["speaker_head"]["kernel"]).sum()) > 0.0
    # both heads' logits are one head: equal values, different gradients
    src = out["source"]
    np.testing.assert_allclose(src["speaker_logits"], src["speaker_confusion_logits"], rtol=1e-5)
    # the loss: CE of the head's softmax against the batch's speaker distribution
    logits = np.asarray(src["speaker_confusion_logits"], np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    prior = np.zeros(logits.shape[1])
    np.add.at(prior, np.arange(8) % 3, 1 / 8)
    expected = -(prior[None] * logp).sum(1).mean()
    got = msac_method.speaker_confusion(out, batch, None)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_a_stronger_confusion_adversary_scales_the_speaker_heads_update_only(tmp_path):
    """`train.lr_multipliers=speaker_head=10` (msac_confusion's search space): one
    SGD step moves the speaker head 10x as far as without it, the rest alike."""
    batch = batch_lib.random(8, 100, 64, 5)
    batch["source"]["speaker"] = jnp.arange(8) % 3
    moved = {}
    for mult in ("", "speaker_head=10"):
        plain_sgd = ("train.optimizer=sgd", "train.momentum=0", "train.warmup_steps=0",
                     "train.weight_decay=0", "train.grad_clip=1e9")  # fmt: skip
        sets = (*CONFUSION, *plain_sgd, f"train.lr_multipliers={mult}")
        exp = experiment.build(tiny_config("msac", tmp_path, *sets), CLASSES, 100)
        before = jax.device_get(exp.state.params)
        state, _ = exp.step(exp.state, batch)
        after = jax.device_get(state.params)
        moved[mult] = jax.tree.map(lambda a, b: np.abs(a - b).sum(), after, before)
    head = moved["speaker_head=10"]["speaker_head"]["kernel"]
    assert head == pytest.approx(10 * moved[""]["speaker_head"]["kernel"], rel=1e-3)
    assert head > 0
    conv = moved["speaker_head=10"]["backbone"]["Conv_0"]["kernel"]
    assert conv == pytest.approx(moved[""]["backbone"]["Conv_0"]["kernel"], rel=1e-4)
    from configs import msac_confusion

    assert "speaker_head=10" in msac_confusion.search_space()["train.lr_multipliers"]


def test_attribute_orthogonality_against_numpy():
    r = np.random.default_rng(2)
    z, a = r.normal(size=(6, 4)), r.normal(size=(6, 3))

    def rows(x):
        x = x - x.mean(0)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    expected = sum(float(rows(z)[:, i] @ rows(a)[:, j]) ** 2 for i in range(4) for j in range(3))
    out = {"source": {"features": jnp.array(z), "attribute_features": jnp.array(a)}}
    got = msac_method.attribute_orthogonality(out, None, None)
    assert float(got) == pytest.approx(expected / 36, rel=1e-5)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["msac.control=gated"], r"unknown config.msac.control 'gated'; known: \['reversal'"),
        (["terms.orth.weight=0.1"], "needs config.msac.control='orthogonal'"),
        (["terms.confusion.weight=0.1"], "needs config.msac.control='confusion'"),
        (  # the corpus reversal would adapt to the tested speakers
            ["data.protocol=loso", "data.target=", "terms.adv.weight=0.3"],
            r"data.protocol=loso: MSAC's corpus reversal .* --set terms.adv.weight=0",
        ),
    ],
)
def test_bad_control_fails_in_check(overrides, message):
    config = config_lib.load("configs/msac.py", overrides, frozen=False)  # reversal control
    with pytest.raises(config_lib.ConfigError, match=message):
        experiment.check(config)


def test_single_corpus_msac_without_the_corpus_reversal_passes_check():
    loso = ["data.protocol=loso", "data.target=", "terms.adv.weight=0"]
    experiment.check(config_lib.load("configs/msac.py", loso))
    experiment.check(config_lib.load("configs/msac_ce.py", loso[:2]))  # its adv weight is 0


def test_the_plain_ce_baseline_is_searched_where_msac_is_and_keeps_its_own_values(monkeypatch):
    """msac_ce's search reaches every dimension it shares with MSAC's (the learning
    rate, warm-up and per-speaker normalisation) with MSAC's distributions, and a
    setting frozen into msac.py (any draw of MSAC's space) leaves its config as it
    was: its own values, plain CE."""
    from configs import msac, msac_ce
    from jaxser import search

    ce, full = msac_ce.search_space(), msac.search_space()
    assert set(ce) == {"train.learning_rate", "train.warmup_steps", "data.normalization"}
    assert all(ce[k] == full[k] for k in ce)
    before = msac_ce.get_config().to_dict()
    assert before["train"]["learning_rate"] == 1e-3 and before["data"]["normalization"] == "corpus"
    assert before["terms"]["am"]["margin"] == 0.0
    assert all(before["terms"][t]["weight"] == 0.0 for t in before["terms"] if t != "am")
    unfrozen = msac.get_config
    for k in range(1, 8):
        setting = search.draw(full, "msac", k)

        def frozen_msac(setting=setting):
            c = unfrozen()
            for key, value in setting.items():
                *path, last = key.split(".")
                node = c
                for part in path:
                    node = node[part]
                node[last] = value
            return c

        assert frozen_msac().to_dict() != unfrozen().to_dict()
        monkeypatch.setattr(msac, "get_config", frozen_msac)
        assert msac_ce.get_config().to_dict() == before, setting


def test_residual_block_is_identity_shortcut_plus_its_convs():
    x = jnp.array(np.random.default_rng(3).normal(size=(2, 24, 16)), jnp.float32)
    mask = jnp.ones((2, 24), bool)
    block = CNN(channels=(4,), stem_channels=4, convs_per_block=1, residual=True, pool=False)
    stem = CNN(channels=(), stem_channels=4, pool=False)
    v = block.init(jax.random.key(0), x, mask, train=False)
    assert "Conv_2" not in v["params"]  # equal channels: identity shortcut, no projection
    stem_v = {
        "params": {k: v["params"][k] for k in ("Conv_0", "BatchNorm_0")},
        "batch_stats": {"BatchNorm_0": v["batch_stats"]["BatchNorm_0"]},
    }
    zeroed = jax.tree.map(lambda a: a, v)
    zeroed["params"]["BatchNorm_1"]["scale"] = jnp.zeros(4)  # the conv branch adds 0
    got, _ = block.apply(zeroed, x, mask, train=False)
    want, _ = stem.apply(stem_v, x, mask, train=False)
    np.testing.assert_allclose(got, want, rtol=1e-6)  # relu(relu(stem) + 0) = relu(stem)
    full, _ = block.apply(v, x, mask, train=False)
    assert not np.allclose(full, want)
    wide = CNN(channels=(8,), stem_channels=4, convs_per_block=2, residual=True, pool=False)
    params = wide.init(jax.random.key(0), x, mask, train=False)["params"]
    assert params["Conv_3"]["kernel"].shape == (1, 1, 4, 8)  # the projection shortcut


def test_max_cosine_is_max_logit_over_scale_for_one_window_utterances(small_data_dir):
    # a crop longer than every utterance: one window each
    config = tiny_config(
        "msac", small_data_dir, *LOSO_OOD, "data.crop_seconds=6.0", "terms.adv.weight=0"
    )
    exp = experiment.setup(config)
    result = ood.evaluator(exp.method.model, 1000.0, 0.0)(Predictions.of(exp, exp.state))
    for part in ("in", "out"):
        np.testing.assert_allclose(
            result["scores"]["max_cosine"][part],
            np.array(result["scores"]["max_logit"][part]) / 30.0,
            rtol=1e-4,
        )
    assert set(result["max_cosine"]) == {"auroc", "fpr95", "aupr_in", "aupr_out"}
