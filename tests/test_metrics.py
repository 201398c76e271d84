import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score

from jaxser.evaluation import metrics


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, 4, 200))
    r = metrics.summarize(y, p, ["angry", "happy", "neutral", "sad"])
    assert r["uar"] == balanced_accuracy_score(y, p)
    assert r["war"] == np.mean(y == p)
    np.testing.assert_allclose(r["macro_f1"], f1_score(y, p, average="macro"))
    np.testing.assert_array_equal(r["confusion"], confusion_matrix(y, p))
    assert set(r["per_class_recall"]) == {"angry", "happy", "neutral", "sad"}


def test_uar_ignores_classes_absent_from_the_labels():
    r = metrics.summarize(np.array([0, 0, 1, 1]), np.array([0, 2, 1, 1]), ["a", "b", "c"])
    assert r["uar"] == 0.75 and set(r["per_class_recall"]) == {"a", "b"}
    assert r["war"] == 0.75


def test_prediction_balance_flags_a_collapse_without_labels():
    assert metrics.prediction_balance(np.array([10, 10, 10, 10])) == 1.0
    assert metrics.prediction_balance(np.array([0, 40, 0, 0])) == 0.0
    # two of four classes used equally: log 2 / log 4
    np.testing.assert_allclose(metrics.prediction_balance(np.array([0, 20, 20, 0])), 0.5)
    p = np.array([5, 202, 89, 484, 220]) / 1000
    want = -(p * np.log(p)).sum() / np.log(5)
    np.testing.assert_allclose(metrics.prediction_balance(np.array([5, 202, 89, 484, 220])), want)
    y_pred = np.array([1, 1, 1, 2])
    s = metrics.summarize(np.array([0, 1, 2, 2]), y_pred, ["a", "b", "c"])
    np.testing.assert_allclose(s["pred_balance"], metrics.prediction_balance(np.array([0, 3, 1])))


def test_binary_metrics_on_an_imbalanced_target_match_sklearn():
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(800, int), np.ones(200, int)]  # 4:1, as arousal on synth_casia
    p = np.where(rng.random(1000) < 0.7, y, 1 - y)
    r = metrics.summarize(y, p, ["high", "low"])
    assert r["uar"] == balanced_accuracy_score(y, p)
    np.testing.assert_allclose(r["macro_f1"], f1_score(y, p, average="macro"))
    recall = confusion_matrix(y, p).diagonal() / np.bincount(y)
    assert r["per_class_recall"] == {"high": recall[0], "low": recall[1]}
    # all "high": WAR 0.8 but UAR 0.5 and pred_balance 0 (a collapse the labels would hide)
    r = metrics.summarize(y, np.zeros(1000, int), ["high", "low"])
    assert (r["war"], r["uar"], r["pred_balance"]) == (0.8, 0.5, 0.0)
