"""tools/embedding_probe.py: each probe measures what it says, on embeddings
built to have, or not have, that property."""

import numpy as np
import pytest
from embedding_probe import measures


def _corpus(rng, centres, n=60):
    y = np.repeat(np.arange(len(centres)), n)
    return centres[y] + rng.normal(size=(len(y), centres.shape[1])), y


def test_aligned_corpora_look_alike_and_share_their_emotion_direction():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 3
    (s, sy), (t, ty) = _corpus(rng, centres), _corpus(rng, centres)
    m = measures(s, sy, t, ty)
    assert m["domain"] < 0.65  # chance 0.5: the corpora cannot be told apart
    assert m["transfer"] > 0.9 and m["target_probe"] > 0.9
    assert m["centroid"] == pytest.approx(0, abs=0.05)


def test_a_shifted_corpus_is_told_apart_and_swapped_classes_do_not_transfer():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 8)) * 3
    s, sy = _corpus(rng, centres)
    shifted, ty = _corpus(rng, centres + 10.0)  # the same classes, another place
    assert measures(s, sy, shifted, ty)["domain"] > 0.95
    swapped, ty = _corpus(rng, centres[[1, 2, 0]])  # each class where another was
    m = measures(s, sy, swapped, ty)
    assert m["transfer"] < 0.1 and m["target_probe"] > 0.9  # held, but not the source's way
    assert m["centroid"] > 0.5
