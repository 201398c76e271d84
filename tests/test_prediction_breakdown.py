import numpy as np
import pytest
from prediction_breakdown import breakdown

CLASSES = ("high", "low")
# six speakers (three female, three male), each with every emotion twice
EMOTIONS = ("angry", "happy", "sad", "neutral")
SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")


def corpus():
    emotion = np.array([e for _ in SPEAKERS for e in EMOTIONS for _ in range(2)])
    speaker = np.array([s for s in SPEAKERS for _ in EMOTIONS for _ in range(2)])
    gender = np.array([s[0] for s in speaker])
    label = np.array([0 if e in ("angry", "happy") else 1 for e in emotion])
    return label, emotion, speaker, gender


def test_predictions_that_follow_gender_show_it_and_no_emotion():
    label, emotion, speaker, gender = corpus()
    by_gender = np.where(gender == "m", 0, 1)  # men "high", women "low"
    r = breakdown(CLASSES, by_gender, label, emotion, speaker, gender)
    assert r["nmi_gender"] == pytest.approx(1.0)
    assert r["uar"] == 0.5  # every class half right
    assert r["nmi_label"] == pytest.approx(0.0, abs=1e-12)
    assert all(v["right"] == 0.5 for v in r["emotion"].values())  # half of each emotion
    assert r["speaker"]["m2"] == {"gender": "m", "n": 8, "predicted": {"high": 1.0, "low": 0.0}}
    assert r["speaker"]["f3"]["predicted"] == {"high": 0.0, "low": 1.0}


def test_predictions_that_follow_the_emotion_show_it_and_no_speaker():
    label, emotion, speaker, gender = corpus()
    wrong_sad = label.copy()
    wrong_sad[emotion == "sad"] = 0  # sad sent to the other half
    r = breakdown(CLASSES, wrong_sad, label, emotion, speaker, gender)
    assert r["emotion"]["sad"] == {"class": "low", "n": 12, "right": 0.0}
    assert r["emotion"]["angry"]["right"] == r["emotion"]["neutral"]["right"] == 1.0
    assert r["nmi_speaker"] == pytest.approx(0.0, abs=1e-12)  # every speaker alike
    assert r["nmi_gender"] == pytest.approx(0.0, abs=1e-12)
    assert 0 < r["nmi_label"] < 1
    assert r["uar"] == pytest.approx((1.0 + 0.5) / 2)  # high all right, low: sad wrong
    assert r["speaker"]["f1"]["predicted"] == {"high": 0.75, "low": 0.25}
