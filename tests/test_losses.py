"""Loss functions against hand-computed values and numpy references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxser import losses
from jaxser.losses import discrepancy


def test_cross_entropy_with_label_smoothing_by_hand():
    logits = jnp.array([[2.0, 0.0, -1.0]])
    p = np.exp([2.0, 0.0, -1.0]) / np.exp([2.0, 0.0, -1.0]).sum()
    assert losses.cross_entropy(logits, jnp.array([0])) == pytest.approx(-np.log(p[0]), 1e-6)
    eps = 0.1
    target = np.array([1 - eps + eps / 3, eps / 3, eps / 3])
    expected = -(target * np.log(p)).sum()
    assert losses.cross_entropy(logits, jnp.array([0]), eps) == pytest.approx(expected, 1e-6)


def test_entropy_by_hand():
    assert losses.entropy(jnp.zeros((2, 4))) == pytest.approx(np.log(4), 1e-6)
    assert losses.entropy(jnp.array([[50.0, 0.0]])) == pytest.approx(0.0, abs=1e-6)


def test_diversity_by_hand():
    # uniform batch mean: -log C; one class for every row: 0
    assert losses.diversity(jnp.zeros((3, 4))) == pytest.approx(-np.log(4), 1e-6)
    assert losses.diversity(jnp.array([[50.0, 0.0], [60.0, 0.0]])) == pytest.approx(0, abs=1e-6)
    logits = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, -1.0]])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pbar = p.mean(0)
    assert losses.diversity(jnp.array(logits)) == pytest.approx((pbar * np.log(pbar)).sum(), 1e-5)


def test_grad_reverse():
    x = jnp.array([1.0, -2.0, 3.0])
    assert jnp.array_equal(losses.grad_reverse(x, 0.7), x)
    g = jax.grad(lambda v: jnp.sum(losses.grad_reverse(v, 0.7) * jnp.array([1.0, 2.0, 3.0])))(x)
    np.testing.assert_allclose(g, [-0.7, -1.4, -2.1], rtol=1e-6)
    # with lambda = -1 the reversed gradient is the identity's: numerically checkable
    check_grads(
        lambda v: jnp.sum(jnp.sin(losses.grad_reverse(v, -1.0))), (x,), order=2, modes=["rev"]
    )
    g_lam = jax.grad(lambda lam: jnp.sum(losses.grad_reverse(x, lam)))(0.3)
    assert g_lam == 0.0


def test_grl_schedule():
    assert losses.grl_schedule(0.0) == 0.0
    assert losses.grl_schedule(0.5) == pytest.approx(2 / (1 + np.exp(-5)) - 1, 1e-6)
    assert losses.grl_schedule(1.0) == pytest.approx(0.9999092, 1e-6)


def test_domain_adversarial_by_hand():
    assert losses.domain_adversarial(jnp.zeros(4), jnp.zeros(4)) == pytest.approx(np.log(2), 1e-6)
    s, t = jnp.array([2.0]), jnp.array([-1.0])
    expected = 0.5 * (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0)))
    assert losses.domain_adversarial(s, t) == pytest.approx(expected, 1e-6)


def _kernel_ref(x, num=5, mul=2.0):
    n = len(x)
    d = np.array([[np.sum((a - b) ** 2) for b in x] for a in x])
    base = d.sum() / (n * n - n)
    return sum(np.exp(-d / (base * mul ** (k - num // 2))) for k in range(num))


def test_mk_mmd_matches_reference():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 1.0
    k = _kernel_ref(np.concatenate([s, t]))
    expected = k[:6, :6].mean() + k[6:, 6:].mean() - 2 * k[:6, 6:].mean()
    assert losses.mk_mmd(jnp.array(s), jnp.array(t)) == pytest.approx(expected, 1e-5)
    assert losses.mk_mmd(jnp.array(s), jnp.array(s)) == pytest.approx(0.0, abs=1e-6)
    far = losses.mk_mmd(jnp.array(s), jnp.array(s + 5.0))
    assert far > losses.mk_mmd(jnp.array(s), jnp.array(t)) > 0


def test_kernel_losses_stay_finite_when_features_collapse():
    """Every row one point (a strong alignment weight can drive the features
    there): the references' bandwidth is 0 / 0; here the MMDs are 0 with finite
    gradients, and the floor leaves a bandwidth above it unchanged."""
    x = jnp.ones((4, 8))
    onehot = jnp.eye(2)[jnp.array([0, 1, 0, 1])]
    for loss in (
        lambda a: losses.mk_mmd(a, x),
        lambda a: losses.lmmd(a, x, onehot, onehot),
    ):
        assert float(loss(x)) == 0.0
        assert bool(jnp.all(jnp.isfinite(jax.grad(loss)(x))))
    rng = np.random.default_rng(0)
    y = rng.normal(size=(6, 3))
    assert np.array_equal(np.asarray(losses.multi_kernel(jnp.array(y))), _kernel_floorless(y))


def _kernel_floorless(x, num=5, mul=2.0):
    """`multi_kernel` without its bandwidth floor, in the same float32 ops."""
    x = jnp.array(x)
    d = discrepancy.squared_distances(x, x)
    n = x.shape[0]
    scales = jnp.sum(d) / (n * n - n) * mul ** (jnp.arange(num) - num // 2)
    return np.asarray(jnp.sum(jnp.exp(-d[None] / scales[:, None, None]), axis=0))


def test_coral_matches_reference():
    rng = np.random.default_rng(1)
    s, t = rng.normal(size=(8, 4)), rng.normal(size=(8, 4)) * 2.0
    expected = np.sum((np.cov(s, rowvar=False) - np.cov(t, rowvar=False)) ** 2) / (4 * 16)
    assert losses.coral(jnp.array(s), jnp.array(t)) == pytest.approx(expected, 1e-5)
    assert losses.coral(jnp.array(s), jnp.array(s + 3.0)) == pytest.approx(0.0, abs=1e-6)


def test_lmmd_matches_reference_and_masks_absent_classes():
    rng = np.random.default_rng(2)
    s, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 0.5
    ys = np.array([0, 0, 1, 1, 2, 2])
    ps = rng.dirichlet(np.ones(3), 6)
    ps[:, 1] *= 0.01  # class 1: never the target argmax -> masked
    ps /= ps.sum(1, keepdims=True)
    onehot = np.eye(3)[ys]
    k = _kernel_ref(np.concatenate([s, t]))
    total, present = 0.0, 0
    for c in range(3):
        if not (onehot[:, c].sum() > 0 and (ps.argmax(1) == c).any()):
            continue
        ws, wt = onehot[:, c] / onehot[:, c].sum(), ps[:, c] / ps[:, c].sum()
        total += ws @ k[:6, :6] @ ws + wt @ k[6:, 6:] @ wt - 2 * ws @ k[:6, 6:] @ wt
        present += 1
    assert present == 2
    got = losses.lmmd(jnp.array(s), jnp.array(t), jnp.array(onehot), jnp.array(ps))
    assert got == pytest.approx(total / present, 1e-5)


def test_lmmd_with_one_class_is_mmd():
    rng = np.random.default_rng(3)
    s, t = jnp.array(rng.normal(size=(5, 2))), jnp.array(rng.normal(size=(5, 2)))
    one = jnp.ones((5, 1))
    assert losses.lmmd(s, t, one, one) == pytest.approx(float(losses.mk_mmd(s, t)), 1e-5)
