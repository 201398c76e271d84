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
