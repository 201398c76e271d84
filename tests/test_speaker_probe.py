"""tools/speaker_probe.py: the linear probe finds identity that is there, and
only that."""

import numpy as np
import speaker_probe


def test_probe_finds_linear_identity_and_nothing_in_noise():
    r = np.random.default_rng(0)
    speaker = np.repeat(np.arange(6), 20)
    centres = r.normal(size=(6, 8)) * 3
    coded = centres[speaker] + r.normal(size=(120, 8))
    assert np.mean(speaker_probe.probe(coded, speaker) == speaker) > 0.9
    noise = r.normal(size=(120, 8))
    assert np.mean(speaker_probe.probe(noise, speaker) == speaker) < 0.35  # chance 1/6
