"""Label-free selection scores against direct numpy references."""

import numpy as np
import pytest

from jaxser.evaluation import evaluators, selection


def _softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def test_information_maximization_extremes_and_reference():
    eye = np.eye(4)[np.arange(40) % 4]  # confident and balanced
    assert selection.information_maximization(eye) == pytest.approx(1.0, abs=1e-9)
    one_class = np.tile([0.97, 0.01, 0.01, 0.01], (40, 1))  # collapsed
    assert selection.information_maximization(one_class) == pytest.approx(0.0, abs=1e-9)
    uniform = np.full((40, 4), 0.25)
    assert selection.information_maximization(uniform) == pytest.approx(0.0, abs=1e-9)

    p = _softmax(np.random.default_rng(0).normal(size=(50, 3)) * 2)
    m = p.mean(0)
    ref = (-(m * np.log(m)).sum() + (p * np.log(p)).sum(1).mean()) / np.log(3)
    assert selection.information_maximization(p) == pytest.approx(ref, rel=1e-9)
    ent = -(p * np.log(p)).sum(1).mean() / np.log(3)
    assert selection.mean_entropy(p) == pytest.approx(ent, rel=1e-9)


def test_soft_neighborhood_density_matches_a_loop():
    p = _softmax(np.random.default_rng(1).normal(size=(30, 4)) * 3)
    z = p / np.linalg.norm(p, axis=1, keepdims=True)
    ents = []
    for i in range(len(z)):
        others = np.array([z[i] @ z[j] for j in range(len(z)) if j != i]) / 0.05
        q = np.exp(others - others.max())
        q /= q.sum()
        ents.append(-(q * np.log(q)).sum())
    assert selection.soft_neighborhood_density(p) == pytest.approx(np.mean(ents), rel=1e-9)


def test_snd_never_counts_an_utterance_as_its_own_neighbour():
    # Two identical predictions and one far away: each twin's only near
    # neighbour is the other twin, not itself.
    p = np.array([[0.98, 0.01, 0.01], [0.98, 0.01, 0.01], [0.01, 0.01, 0.98]])
    z = p / np.linalg.norm(p, axis=1, keepdims=True)
    s = z @ z.T / 0.05
    q0 = np.exp(np.array([s[0, 1], s[0, 2]]) - s[0, 1])
    q0 /= q0.sum()
    q2 = np.exp(np.array([s[2, 0], s[2, 1]]) - s[2, 0])
    q2 /= q2.sum()
    ref = np.mean([-(q0 * np.log(q0)).sum()] * 2 + [-(q2 * np.log(q2)).sum()])
    assert selection.soft_neighborhood_density(p) == pytest.approx(ref, rel=1e-9)


def test_label_free_evaluator_reads_no_labels_and_always_runs():
    class Preds:
        classes = ("a", "b")

        def __call__(self, split):
            assert split == "target_adapt"
            return {"probs": np.array([[0.9, 0.1], [0.2, 0.8]])}

    r = evaluators.label_free(Preds())
    assert set(r) == {"im", "snd", "entropy"}
    assert set(evaluators.from_config("")) == {"classification", "label_free"}
    assert list(evaluators.from_config("source,label_free")) == [
        "classification",
        "label_free",
        "source",
    ]


def test_one_prediction_pass_serves_both_target_splits_when_they_are_one(monkeypatch):
    from types import SimpleNamespace

    from jaxser.evaluation import predict

    calls = []

    def fake_predict_split(forward, variables, split, *args):
        calls.append(split)
        return {"probs": np.full((len(split), 2), 0.5), "labels": np.zeros(len(split), int)}

    monkeypatch.setattr(predict, "predict_split", fake_predict_split)
    target, source = [0, 1, 2], [0, 1]
    transductive = SimpleNamespace(
        classes=("a", "b"), source=source, target_adapt=target, target_test=target
    )
    preds = predict.Predictions(None, None, transductive, 4, 10, None)
    assert preds("target_test") is preds("target_adapt")
    preds("source")
    assert calls == [target, source]
    held_out = SimpleNamespace(
        classes=("a", "b"), source=source, target_adapt=[0, 1], target_test=[2]
    )
    calls.clear()
    preds = predict.Predictions(None, None, held_out, 4, 10, None)
    assert preds("target_test") is not preds("target_adapt")
    assert len(calls) == 2
