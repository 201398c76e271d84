"""Audio -> features: decode, mono, resample, log-mel, MFCC or openSMILE.

`FeatureConfig` names every setting that changes the numbers; its `key()` is a
stable hash, so a store computed with other settings is never reused.
Bad audio raises `BadAudio` with a reason that prepare lists under `skipped`.
"""

import dataclasses
import functools
import hashlib
import json

import numpy as np

from jaxser.config import ConfigError

# Peak below this (full scale = 1) counts as all-silent.
SILENCE_PEAK = 1e-4


class BadAudio(ValueError):
    """A file that cannot be used, with the reason."""


# openSMILE (the `opensmile` package, `pip install -e ".[opensmile]"`): its feature
# sets, and the levels as `data.features` names them
OPENSMILE_SETS = ("ComParE_2016", "GeMAPSv01b", "eGeMAPSv01b", "eGeMAPSv02", "emobase",
                  "IS09", "IS10", "IS11", "IS12", "IS13")  # fmt: skip
OPENSMILE_LEVELS = {"lld": "LowLevelDescriptors", "functionals": "Functionals"}


def opensmile_spec(kind: str) -> tuple[str, str] | None:
    """("eGeMAPSv02", "functionals") for kind "opensmile:eGeMAPSv02:functionals",
    None for another kind; ConfigError naming the known sets or levels."""
    if not kind.startswith("opensmile:"):
        return None
    parts = kind.split(":")
    if len(parts) != 3:
        raise ConfigError(f"feature kind {kind!r}: openSMILE features are opensmile:<set>:<level>")
    _, feature_set, level = parts
    if feature_set not in OPENSMILE_SETS:
        raise ConfigError(f"unknown openSMILE set {feature_set!r}; known: {list(OPENSMILE_SETS)}")
    if level not in OPENSMILE_LEVELS:
        raise ConfigError(f"unknown openSMILE level {level!r}; known: {list(OPENSMILE_LEVELS)}")
    return feature_set, level


@functools.cache
def _smile(feature_set: str, level: str):
    """openSMILE's extractor for a set and level, made once per process."""
    try:
        import opensmile
    except ImportError:
        raise ConfigError(
            'openSMILE features need the opensmile package: pip install -e ".[opensmile]"'
        ) from None
    return opensmile.Smile(
        opensmile.FeatureSet[feature_set], opensmile.FeatureLevel[OPENSMILE_LEVELS[level]]
    )


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    # "logmel", "mfcc" (TIM-Net), or "opensmile:<set>:<level>" (level "lld": a
    # vector per 10 ms frame; "functionals": one vector per utterance)
    kind: str = "logmel"
    sample_rate: int = 16000
    n_mels: int = 64
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int = 512
    fmin: float = 0.0
    fmax: float | None = None
    n_mfcc: int = 39
    log_floor: float = 1e-6

    def __post_init__(self):
        if self.kind not in ("logmel", "mfcc") and opensmile_spec(self.kind) is None:
            raise ConfigError(
                f"unknown feature kind {self.kind!r}; known: ['logmel', 'mfcc', "
                "'opensmile:<set>:<level>']"
            )
        if self.win_length > self.n_fft:
            raise ValueError(f"window ({self.win_length} samples) longer than n_fft={self.n_fft}")

    @property
    def win_length(self) -> int:
        return round(self.sample_rate * self.win_ms / 1000)

    @property
    def hop_length(self) -> int:
        return round(self.sample_rate * self.hop_ms / 1000)

    @property
    def dim(self) -> int:
        if spec := opensmile_spec(self.kind):
            return len(_smile(*spec).feature_names)
        return self.n_mfcc if self.kind == "mfcc" else self.n_mels

    @property
    def per_utterance(self) -> bool:
        """One vector per utterance (openSMILE functionals), not one per frame."""
        spec = opensmile_spec(self.kind)
        return spec is not None and spec[1] == "functionals"

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def key(self) -> str:
        """Stable 10-hex-digit hash of the settings (the store key)."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:10]


def statistics(total: np.ndarray, total_sq: np.ndarray, frames: int) -> dict:
    """Mean and std per bin from the sums of frames and of their squares over
    `frames` frames (rounded to 6 decimals: the manifest's "stats")."""
    frames = max(frames, 1)
    mean = total / frames
    std = np.sqrt(np.maximum(total_sq / frames - mean**2, 1e-12))
    return {"mean": mean.round(6).tolist(), "std": std.round(6).tolist()}


VIDEO = (".avi", ".mp4", ".mkv", ".mov", ".webm")  # their audio track is read through PyAV


def decode(path: str) -> tuple[np.ndarray, int]:
    """(samples [channels, n] float32, rate). Audio inside video files is read through PyAV."""
    import soundfile as sf  # the audio libraries: when audio is read

    if path.lower().endswith(VIDEO):
        return _decode_av(path)
    try:
        wave, rate = sf.read(path, dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, ...
        raise BadAudio(f"unreadable audio ({type(e).__name__}: {e})") from e
    return wave.T, rate


def _decode_av(path: str) -> tuple[np.ndarray, int]:
    import av  # only .avi needs it

    try:
        with av.open(path) as container:
            if not container.streams.audio:
                raise BadAudio("video file without an audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="mono")
            chunks = [
                out.to_ndarray()
                for frame in container.decode(stream)
                for out in resampler.resample(frame)
            ]
            chunks += [out.to_ndarray() for out in resampler.resample(None)]
            rate = stream.rate
    except BadAudio:
        raise
    except Exception as e:
        raise BadAudio(f"unreadable video audio ({type(e).__name__}: {e})") from e
    if not chunks:
        raise BadAudio("zero-length audio")
    return np.concatenate(chunks, axis=1).astype(np.float32), rate


def load_audio(path: str, sample_rate: int) -> np.ndarray:
    """Mono float32 wave at `sample_rate`; raises BadAudio for empty, NaN or silent audio."""
    import soxr  # resampling: when audio is read

    wave, rate = decode(path)
    if wave.size == 0:
        raise BadAudio("zero-length audio")
    if not np.all(np.isfinite(wave)):
        raise BadAudio("audio holds NaN or infinite samples")
    wave = wave.mean(axis=0)
    if np.max(np.abs(wave)) < SILENCE_PEAK:
        raise BadAudio("all-silent audio")
    if rate != sample_rate:
        wave = soxr.resample(wave, rate, sample_rate)
    return wave.astype(np.float32)


def compute(wave: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Features [frames, dim] float32 of a mono wave at `config.sample_rate`
    (openSMILE functionals: [1, dim])."""
    if spec := opensmile_spec(config.kind):
        x = _smile(*spec).process_signal(wave, config.sample_rate).to_numpy(np.float32)
        if not np.all(np.isfinite(x)):
            raise BadAudio(f"openSMILE {config.kind} gave NaN or infinite values")
        return x
    import librosa  # slow to import: when features are computed

    mel = librosa.feature.melspectrogram(
        y=wave,
        sr=config.sample_rate,
        n_fft=config.n_fft,
        win_length=config.win_length,
        hop_length=config.hop_length,
        n_mels=config.n_mels,
        fmin=config.fmin,
        fmax=config.fmax,
        power=2.0,
    )
    logmel = np.log(mel + config.log_floor)
    if config.kind == "mfcc":
        return librosa.feature.mfcc(S=logmel, n_mfcc=config.n_mfcc).T.astype(np.float32)
    return logmel.T.astype(np.float32)


def featurize(path: str, config: FeatureConfig) -> np.ndarray:
    """File -> features [frames, dim]; raises BadAudio with the reason."""
    wave = load_audio(path, config.sample_rate)
    if wave.size < config.win_length:
        raise BadAudio(f"audio shorter than one analysis window ({wave.size} samples)")
    return compute(wave, config)


def featurize_or_reason(path: str, config: FeatureConfig) -> tuple[np.ndarray | None, str]:
    """`featurize` for worker pools: (features, "") or (None, reason); never raises BadAudio."""
    try:
        return featurize(path, config), ""
    except BadAudio as e:
        return None, str(e)
