"""tools/speaker_gap.py: per-speaker standardisation removes each speaker's offset."""

import numpy as np
import speaker_gap


def test_per_speaker_standardisation_removes_the_offset_and_keeps_the_rest():
    r = np.random.default_rng(0)
    speaker = np.repeat(np.array(["a", "b", "c"]), 30)
    x = r.normal(size=(90, 4)) + np.repeat(np.array([[0.0], [5.0], [-3.0]]), 30, 0)
    z = speaker_gap.per_speaker(x, speaker)
    for s in "abc":
        np.testing.assert_allclose(z[speaker == s].mean(0), 0, atol=1e-9)
        np.testing.assert_allclose(z[speaker == s].std(0), 1, atol=1e-5)
        rank = np.argsort(x[speaker == s][:, 0])
        np.testing.assert_array_equal(rank, np.argsort(z[speaker == s][:, 0]))
