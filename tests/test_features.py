import fakes
import numpy as np
import pytest
import soundfile as sf

from jaxser.data import features
from jaxser.data.features import BadAudio, FeatureConfig


def test_logmel_shape_and_values(tmp_path):
    path = fakes.wav(tmp_path / "a.wav", seconds=1.0, rate=16000, freq=1000.0)
    x = features.featurize(str(path), FeatureConfig())
    assert x.shape == (101, 64) and x.dtype == np.float32  # 10 ms hop, centred frames
    # A 1 kHz tone: the loudest mel bin is the one whose centre is nearest 1 kHz.
    import librosa

    centres = librosa.mel_frequencies(66, fmin=0, fmax=8000)[1:-1]
    assert abs(int(np.argmax(x[50])) - int(np.argmin(abs(centres - 1000)))) <= 1


def test_resample_and_stereo(tmp_path):
    a = features.featurize(
        str(fakes.wav(tmp_path / "a.wav", 1.0, 48000, channels=2)), FeatureConfig()
    )
    assert a.shape == (101, 64)
    wave = features.load_audio(str(tmp_path / "a.wav"), 16000)
    assert wave.ndim == 1 and wave.size == 16000


def test_mfcc():
    x = features.compute(fakes.tone(1.0), FeatureConfig(kind="mfcc"))
    assert x.shape == (101, 39)


def test_avi_audio_through_pyav(tmp_path):
    path = fakes.avi(tmp_path / "s1_an_1.avi", seconds=0.5, rate=48000)
    wave = features.load_audio(str(path), 16000)
    ref = features.load_audio(str(fakes.wav(tmp_path / "ref.wav", 0.5, 48000, 330.0)), 16000)
    assert wave.size == ref.size == 8000
    # same tone as the wav written by the same helper (noise differs by seed)
    assert np.corrcoef(wave[100:-100], ref[100:-100])[0, 1] > 0.99


def test_feature_key_is_stable_and_sensitive():
    assert FeatureConfig().key() == FeatureConfig().key()
    assert FeatureConfig().key() != FeatureConfig(n_mels=80).key()
    assert FeatureConfig().key() != FeatureConfig(kind="mfcc").key()
    assert len(FeatureConfig().key()) == 10


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_bytes(b""), "unreadable"),
        (lambda p: p.write_bytes(b"RIFF\x00\x00garbage" * 10), "unreadable"),
        (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), "zero-length"),
        (lambda p: sf.write(p, np.full(16000, np.nan, np.float32), 16000, subtype="FLOAT"), "NaN"),
        (lambda p: sf.write(p, np.zeros(16000, np.float32), 16000), "silent"),
        (lambda p: sf.write(p, fakes.tone(0.01), 16000), "shorter than one analysis window"),
    ],
)
def test_bad_audio_reasons(tmp_path, make, reason):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(BadAudio, match=reason):
        features.featurize(str(path), FeatureConfig())
    assert features.featurize_or_reason((str(path), 0.0, 0.0, 0), FeatureConfig())[0] is None


def test_a_segment_and_a_channel_of_a_file(tmp_path):
    """EmoBox's segmented corpora (start_time/end_time) and its 1-based channel:
    only that part and channel of the file is read."""
    left, right = fakes.tone(2.0, 16000, 220.0), fakes.tone(2.0, 16000, 330.0, seed=1)
    path = tmp_path / "long.wav"
    sf.write(path, np.stack([left, right], 1), 16000, subtype="FLOAT")
    whole = features.load_audio(str(path), 16000)
    np.testing.assert_allclose(whole, (left + right) / 2, atol=1e-7)
    part = features.load_audio(str(path), 16000, start=0.5, end=1.25, channel=2)
    np.testing.assert_array_equal(part, right[8000:20000])
    np.testing.assert_array_equal(features.load_audio(str(path), 16000, 1.5, 0.0, 1), left[24000:])
    for start, end, reason in [(1.5, 2.5, "outside the file"), (3.0, 0.0, "outside the file"),
                               (1.0, 0.5, "outside the file")]:  # fmt: skip
        with pytest.raises(BadAudio, match=reason):
            features.load_audio(str(path), 16000, start, end)
    with pytest.raises(BadAudio, match=r"no channel 3 \(the file has 2\)"):
        features.load_audio(str(path), 16000, channel=3)


def test_unknown_kind():
    with pytest.raises(ValueError, match="known"):
        FeatureConfig(kind="cqt")
