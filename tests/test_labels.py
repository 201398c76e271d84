import pytest

from jaxser.data import corpora, labels


def test_shared_classes_of_published_pairs():
    def shared(a, b):
        return labels.shared_classes(a, corpora.get(a).emotions, b, corpora.get(b).emotions)

    assert shared("emodb", "enterface") == ("angry", "disgust", "fear", "happy", "sad")
    assert shared("emodb", "casia") == ("angry", "fear", "happy", "neutral", "sad")
    assert shared("enterface", "casia") == ("angry", "fear", "happy", "sad", "surprise")
    assert shared("casia", "emovo") == ("angry", "fear", "happy", "neutral", "sad", "surprise")
    assert shared("iemocap", "msp_improv") == ("angry", "happy", "neutral", "sad")
    assert shared("synth_emodb", "synth_casia") == shared("emodb", "casia")


def test_pair_sharing_too_few_classes_lists_both_sets():
    with pytest.raises(ValueError, match=r"share 1 class.*a: \['angry', 'calm'\]; b: \['angry'"):
        labels.shared_classes("a", ["angry", "calm"], "b", ["angry", "sad"][:1] + ["other"])


def test_validate_classes():
    assert labels.validate_classes(["sad", "angry"]) == ("angry", "sad")
    with pytest.raises(ValueError, match="known emotions"):
        labels.validate_classes(["angry", "joy"])
    with pytest.raises(ValueError, match="at least 2"):
        labels.validate_classes(["angry"])
    with pytest.raises(ValueError, match="duplicate"):
        labels.validate_classes(["angry", "angry"])


def test_binary_mapping_table_and_overrides():
    arousal = labels.binary_mapping("arousal")
    assert list(arousal) == ["high", "low"]  # sorted: class index = position
    assert arousal["high"] == ("angry", "fear", "happy", "surprise")
    assert arousal["low"] == ("boredom", "calm", "disgust", "neutral", "sad")
    valence = labels.binary_mapping("valence")
    assert list(valence) == ["negative", "positive"]
    assert valence["positive"] == ("calm", "happy", "neutral", "surprise")
    for table in (arousal, valence):  # every emotion in exactly one half
        assert sorted(table[next(iter(table))] + table[list(table)[1]]) == list(labels.EMOTIONS)
    moved = labels.binary_mapping("arousal", {"high": ["angry", "happy"]})
    assert moved["high"] == ("angry", "happy") and moved["low"] == arousal["low"]


@pytest.mark.parametrize(
    "space, overrides, message",
    [
        ("arousal", {"high": ["angry", "angry"]}, r"arousal high names \['angry'\] twice"),
        ("arousal", {"high": ["angry", "sad"]}, r"\['sad'\] are in both halves"),
        ("arousal", {"high": ["angry", "joy"]}, r"unknown emotion\(s\) \['joy'\]; known"),
        ("valence", {"up": ["happy"]}, r"classes \['negative', 'positive'\], not 'up'"),
        ("dominance", {}, r"binary spaces: \['arousal', 'valence'\]"),
    ],
)
def test_binary_mapping_refuses_bad_halves(space, overrides, message):
    with pytest.raises(ValueError, match=message):
        labels.binary_mapping(space, overrides)
