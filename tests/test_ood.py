"""Out-of-distribution evaluation: metrics on fixed scores, the scores against
references, ODIN's degenerate case, a tiny single-corpus run, bad input."""

import json

import numpy as np
import pytest
from scipy.spatial import distance
from sklearn import metrics as skm
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment
from jaxser.evaluation import ood
from jaxser.evaluation.predict import Predictions

LOSO = ("data.protocol=loso", "data.target=", "data.fold=2")


def test_metrics_on_fixed_scores_by_hand_and_sklearn():
    inside, outside = np.array([0.9, 0.8, 0.7, 0.6]), np.array([0.65, 0.1])
    m = ood.metrics(inside, outside)
    assert m["auroc"] == pytest.approx(7 / 8)  # P(in > out) over the 8 pairs
    assert m["fpr95"] == pytest.approx(0.5)  # all 4 in accepted at 0.6: 0.65 passes too
    assert m["aupr_in"] == pytest.approx((1 + 1 + 1 + 4 / 5) / 4)
    assert m["aupr_out"] == pytest.approx((1 + 2 / 3) / 2)
    r = np.random.default_rng(0)
    inside, outside = r.normal(1, 1, 50), r.normal(0, 1, 30)
    y = np.r_[np.ones(50), np.zeros(30)]
    s = np.r_[inside, outside]
    m = ood.metrics(inside, outside)
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert m["aupr_in"] == pytest.approx(skm.average_precision_score(y, s))
    assert m["aupr_out"] == pytest.approx(skm.average_precision_score(1 - y, -s))
    threshold = np.sort(inside)[int(np.floor(0.05 * 50))]  # 95% of in at or above it
    assert m["fpr95"] == pytest.approx(np.mean(outside >= threshold))


def test_logit_scores_and_mahalanobis_against_references():
    r = np.random.default_rng(1)
    logits = r.normal(size=(6, 3))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    s = ood.logit_scores(logits, probs)
    np.testing.assert_allclose(s["msp"], probs.max(1))
    np.testing.assert_allclose(s["max_logit"], logits.max(1))
    np.testing.assert_allclose(s["energy"], np.log(np.exp(logits).sum(1)), rtol=1e-6)
    train, labels = r.normal(size=(40, 4)), np.arange(40) % 3
    query = r.normal(size=(5, 4))
    means = [train[labels == c].mean(0) for c in range(3)]
    within = np.concatenate([train[labels == c] - means[c] for c in range(3)])
    vi = np.linalg.inv(within.T @ within / 40)
    expected = [-min(distance.mahalanobis(q, m, vi) ** 2 for m in means) for q in query]
    np.testing.assert_allclose(ood.mahalanobis(train, labels, query), expected, rtol=1e-6)


def test_odin_with_epsilon_0_and_temperature_1_is_msp(small_data_dir):
    config = tiny_config("source_only", small_data_dir, *LOSO, "data.ood_classes=boredom,disgust")
    exp = experiment.setup(config)
    result = ood.evaluator(exp.method.model, 1.0, 0.0)(Predictions.of(exp, exp.state))
    np.testing.assert_allclose(
        result["scores"]["odin"]["in"], result["scores"]["msp"]["in"], rtol=1e-5
    )
    np.testing.assert_allclose(
        result["scores"]["odin"]["out"], result["scores"]["msp"]["out"], rtol=1e-5
    )
    perturbed = ood.evaluator(exp.method.model, 1000.0, 0.05)(Predictions.of(exp, exp.state))
    assert not np.allclose(perturbed["scores"]["odin"]["in"], result["scores"]["msp"]["in"])


def test_tiny_single_corpus_run_with_ood_classes(small_data_dir, tmp_path):
    config = tiny_config("source_only", small_data_dir, *LOSO, "data.ood_classes=boredom,disgust")
    exp = experiment.setup(config)
    assert "boredom" not in exp.classes and len(exp.classes) == 5
    assert "ood" in exp.final_evaluators and "ood" not in exp.evaluators  # the final model only
    ood_split, test = exp.data.target_ood, exp.data.target_test
    assert ood_split.speakers == test.speakers  # the fold's speaker only
    assert len(ood_split) == 2 * 3 and len(test) == 5 * 3  # 3 texts per emotion
    assert not set(ood_split.utt_id) & set(exp.data.source.utt_id)
    r = experiment.train(config, tmp_path / "run", progress=False)
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["ood"]["n_in"] == 15 and saved["ood"]["n_out"] == 6
    assert saved["ood"]["ood_classes"] == ["boredom", "disgust"]
    assert "max_cosine" not in saved["ood"]  # no AM-softmax head
    for score in set(ood.SCORES) - {"max_cosine"}:
        assert set(saved["ood"][score]) == {"auroc", "fpr95", "aupr_in", "aupr_out"}
        assert all(0.0 <= v <= 1.0 for v in saved["ood"][score].values())
    assert "scores" not in saved["ood"] and r["ood"] == saved["ood"]
    assert (tmp_path / "run" / "ood.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "ood_classes, message",
    [
        ("surprise", r"OOD classes \['surprise'\] are not emotions of synth_emodb: \[.*'angry"),
        ("angry,boredom,disgust,fear,happy,neutral", "fewer than 2 in-distribution classes"),
    ],
)
def test_bad_ood_classes_fail_before_any_work(ood_classes, message):
    config = config_lib.load("configs/source_only.py", [*LOSO, f"data.ood_classes={ood_classes}"])
    with pytest.raises(config_lib.ConfigError, match=message):
        experiment.check(config)
