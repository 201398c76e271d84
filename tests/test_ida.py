"""Implicit distribution alignment (DIDAN/LIDAN): the maths against numpy, and the
method's pseudo-labels and groups."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxser import config as config_lib
from jaxser import experiment
from jaxser.losses import ida
from jaxser.methods import didan
from jaxser.methods.base import Context


def rows(seed, n, d=12):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float64)


@jax.default_matmul_precision("float32")  # as the step computes its losses (not TF32 on a GPU)
def test_ridge_coefficients_equal_numpy_solve():
    hs, ht = rows(0, 6), rows(1, 5)
    mu = 0.1
    want = np.linalg.solve(hs @ hs.T + mu * np.eye(6), hs @ ht.T).T  # Ht Hs^T (Hs Hs^T+mu I)^-1
    got = ida.ridge_coefficients(jnp.asarray(hs, jnp.float32), jnp.asarray(ht, jnp.float32), mu)
    assert got.shape == (5, 6)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # the closed form is the minimiser: the objective's gradient in Z vanishes there
    grad_z = jax.grad(lambda z: ida.objective(jnp.asarray(hs), jnp.asarray(ht), z, mu))(got)
    assert float(jnp.abs(grad_z).max()) < 1e-3


def test_residual_vanishes_when_targets_are_combinations_of_sources():
    hs = rows(0, 6)
    ht = np.random.default_rng(2).normal(size=(4, 6)) @ hs  # each target row in span(Hs)
    hs, ht = jnp.asarray(hs, jnp.float32), jnp.asarray(ht, jnp.float32)
    assert float(ida.ida(hs, ht, mu=1e-6)) < 1e-5
    # an unrelated target is far from reconstructed
    assert float(ida.ida(hs, jnp.asarray(rows(3, 4), jnp.float32), mu=1e-6)) > 0.2
    # sparse coefficients reconstruct it too (up to the L1 shrinkage)
    assert float(ida.ida(hs, ht, mu=1e-4, sparse=True, ista_steps=3000)) < 0.02


@pytest.mark.parametrize("relative", [True, False])
def test_stop_gradient_equals_gradient_through_the_full_solve(relative):
    hs, ht = jnp.asarray(rows(4, 6)), jnp.asarray(rows(5, 5))
    mu = 0.3

    def full(hs, ht):  # the coefficients differentiated through the solve
        z = ida.ridge_coefficients(hs, ht, mu)
        value = ida.objective(hs, ht, z, mu)
        return value / (jnp.sum(ht**2) + 1e-6) if relative else value / ht.shape[0]

    with jax.enable_x64(True):
        hs64, ht64 = jnp.asarray(rows(4, 6), jnp.float64), jnp.asarray(rows(5, 5), jnp.float64)
        for argnum in (0, 1):
            want = jax.grad(full, argnum)(hs64, ht64)
            got = jax.grad(lambda a, b: ida.ida(a, b, mu, relative=relative), argnum)(hs64, ht64)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert np.isfinite(float(ida.ida(hs, ht, mu)))


def test_gradient_matches_finite_differences():
    hs, ht = rows(6, 5, 4), rows(7, 3, 4)
    mu, eps = 0.2, 1e-6

    def value(a, b):
        return float(ida.ida(jnp.asarray(a), jnp.asarray(b), mu))

    with jax.enable_x64(True):
        g = np.asarray(jax.grad(lambda a: ida.ida(a, jnp.asarray(ht), mu))(jnp.asarray(hs)))
        for i, j in [(0, 0), (2, 3), (4, 1)]:
            d = np.zeros_like(hs)
            d[i, j] = eps
            numeric = (value(hs + d, ht) - value(hs - d, ht)) / (2 * eps)
            np.testing.assert_allclose(g[i, j], numeric, rtol=1e-5, atol=1e-8)


def test_conditional_ignores_absent_classes_and_equals_ida_on_selected_rows():
    hs, ht = jnp.asarray(rows(8, 9), jnp.float32), jnp.asarray(rows(9, 7), jnp.float32)
    src = np.array([0, 0, 0, 1, 1, 1, 1, 0, 1])  # no source row of class 2
    tgt = np.array([0, 1, 2, 2, 0, 1, -1])  # class 2 only on the target; -1: not confident
    ms = jax.nn.one_hot(src, 3)
    mt = jax.nn.one_hot(tgt, 3)  # -1 -> an all-zero row
    got = ida.conditional_ida(hs, ht, ms, mt, 0.1)
    per_class = [ida.ida(hs[src == c], ht[tgt == c], 0.1) for c in (0, 1)]
    np.testing.assert_allclose(got, np.mean(per_class), rtol=1e-4)
    # nothing confident on the target: no class present, the loss is 0
    assert float(ida.conditional_ida(hs, ht, ms, jnp.zeros_like(mt), 0.1)) == 0.0
    # absolute form: per confident target row of the class
    got_abs = ida.conditional_ida(hs, ht, ms, mt, 0.1, relative=False)
    want_abs = [ida.ida(hs[src == c], ht[tgt == c], 0.1, relative=False) for c in (0, 1)]
    np.testing.assert_allclose(got_abs, np.mean(want_abs), rtol=1e-4)


def test_sparse_coefficients_match_the_lasso_optimum():
    hs, ht = rows(10, 5, 8), rows(11, 2, 8)
    mu = 0.5
    z = np.asarray(ida.sparse_coefficients(jnp.asarray(hs), jnp.asarray(ht), mu, steps=5000))
    # optimality (subgradient) conditions of min ||Ht - Z Hs||^2 + mu ||Z||_1
    g = 2 * (z @ hs - ht) @ hs.T
    on = np.abs(z) > 1e-6
    np.testing.assert_allclose(g[on], -mu * np.sign(z[on]), atol=1e-3)
    assert np.all(np.abs(g[~on]) <= mu + 1e-3)
    assert (~on).any()  # some coefficients are exactly zero


def _ctx(progress, config="configs/didan.py", classes=("angry", "happy", "sad")):
    options = config_lib.load(config, frozen=False).didan  # the file's own options
    return Context(jnp.array(0), jnp.array(progress), {}, options, classes)


def test_pseudo_labels_floor_and_warmup():
    out = {"target": {"logits": jnp.array([[0.9, 0.1, 0.0], [0.3, 0.4, 0.2], [-0.2, 0.1, 1.4]])}}
    eye = jnp.eye(3)
    before = didan.target_membership(out, _ctx(0.05), eye)
    assert float(before.sum()) == 0.0  # warm-up: nothing
    after = np.asarray(didan.target_membership(out, _ctx(0.5), eye))
    np.testing.assert_array_equal(after, [[1, 0, 0], [0, 0, 0], [0, 0, 1]])  # 0.4 < 0.5
    # coarse groups: the group's score is the sum of its classes' scores
    groups = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    grouped = np.asarray(didan.target_membership(out, _ctx(0.5), groups))
    np.testing.assert_array_equal(grouped, [[1, 0], [1, 0], [0, 1]])  # 0.3 + 0.4 >= 0.5


def test_group_matrix_from_the_config():
    classes = ("angry", "fear", "happy", "neutral", "sad")
    spec = config_lib.load("configs/lidan.py").terms.ida_group.groups
    m = didan.group_matrix(spec, classes)
    np.testing.assert_array_equal(m, [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]])
    with pytest.raises(config_lib.ConfigError, match="'sad' in 0 groups"):
        didan.group_matrix("angry,fear,happy/neutral", classes)
    with pytest.raises(ValueError, match="'fear' in 2 groups"):
        didan.group_matrix("angry,fear,happy/fear,neutral,sad", classes)
    with pytest.raises(ValueError, match="at least 2"):
        didan.group_matrix("angry,fear,happy,neutral,sad/boredom", classes)


def test_mse_against_one_hot():
    out = {"source": {"logits": jnp.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])}}
    batch = {"source": {"label": jnp.array([0, 2])}}
    # (0 + 0 + 0 + 0.25 + 0.25 + 1) / 6
    np.testing.assert_allclose(didan.mse(out, batch, _ctx(0.0)), 1.5 / 6, rtol=1e-6)


def test_config_errors_are_actionable():
    from jaxser import methods

    classes = ("angry", "fear", "happy", "neutral", "sad")
    c = config_lib.load("configs/didan.py", ["terms.reg.fn=cross_entropy"])
    with pytest.raises(config_lib.ConfigError, match="didan.scores=softmax"):
        experiment.check(c)
    c = config_lib.load("configs/didan.py", ["terms.ida_class.layer=fc4"])
    with pytest.raises(config_lib.ConfigError, match="known: \\['fc1', 'fc2', 'fc3'\\]"):
        methods.build(c, classes, 10)
    # groups that do not cover the task's classes fail when the method is built on them
    c = config_lib.load("configs/lidan.py", ["terms.ida_group.groups=angry,fear/sad"])
    experiment.check(c)  # the classes are not known yet
    with pytest.raises(config_lib.ConfigError, match=r"terms.ida_group.groups=.*'happy' in 0"):
        methods.build(c, classes, 10)


def test_a_layer_narrower_than_the_source_batch_reconstructs_anything():
    """Why the layer matters: 32 source rows span any 5-d row (DIDAN's output layer
    for 5 emotions), so even unrelated, shifted target rows reconstruct almost
    exactly; at 128-d (FC2) they do not."""
    rng = np.random.default_rng(0)
    losses = {}
    for d in (5, 128):
        hs = np.abs(rng.normal(size=(32, d)))
        ht = np.abs(rng.normal(size=(32, d))) + 0.5
        losses[d] = float(ida.ida(jnp.asarray(hs, jnp.float32), jnp.asarray(ht, jnp.float32)))
    assert losses[5] < 0.01 and losses[128] > 0.1


def test_group_term_maps_the_config_groups_onto_the_context_classes():
    rng = np.random.default_rng(12)
    out = {
        side: {
            "fc2": jnp.asarray(rng.normal(size=(6, 8)), jnp.float32),
            "logits": jnp.asarray(rng.uniform(size=(6, 3)), jnp.float32),
        }
        for side in ("source", "target")
    }
    batch = {"source": {"label": jnp.array([0, 1, 2, 0, 1, 2])}}
    ctx = _ctx(0.5, "configs/lidan.py")  # angry, happy: high arousal; sad: low
    groups = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    want = ida.conditional_ida(
        out["source"]["fc2"],
        out["target"]["fc2"],
        jax.nn.one_hot(batch["source"]["label"], 3) @ groups,
        didan.target_membership(out, ctx, groups),
        0.1,
    )
    got, _ = didan.ida_group(out, batch, ctx)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_ida_probe_tells_a_vacuous_layer_from_a_gap():
    import ida_probe

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 40)
    basis = rng.normal(size=(6, 64))  # wide layer: the source spans 6 directions
    wide_src = rng.normal(size=(160, 6)) @ basis
    narrow_src = rng.normal(size=(160, 3))  # narrow layer: 3 units
    source = {"fc1": wide_src, "fc2": wide_src, "fc3": narrow_src}
    # target: fc1 inside the source span, fc2 off it, fc3 unrelated (but only 3 wide)
    target = {
        "fc1": rng.normal(size=(100, 6)) @ basis,
        "fc2": rng.normal(size=(100, 64)),
        "fc3": rng.normal(size=(100, 3)) + 5.0,
    }
    rows = ida_probe.probe(source, labels, target, mu=1e-3, batch=32, draws=3)
    assert rows["fc1"]["source_rank99"] <= 6 and rows["fc1"]["width"] == 64
    assert rows["fc1"]["target"] < 1e-3 and rows["fc1"]["source"] < 1e-3
    assert rows["fc2"]["target"] > 0.8  # a gap IDA can see
    assert rows["fc2"]["gaussian"] > 0.5
    # 32 source rows span a 3-wide layer: anything is reconstructed, even noise
    assert max(rows["fc3"]["target"], rows["fc3"]["gaussian"]) < 1e-3
    assert ida_probe.effective_rank(np.outer(np.ones(5), np.arange(1.0, 4.0))) == 1
