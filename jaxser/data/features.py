"""Audio -> features: decode, mono, resample, then log-mel, MFCC, openSMILE,
SSL embeddings (jaxser/data/ssl.py), or a user's own arrays (jaxser/data/arrays.py).

`FeatureConfig` names every setting that changes the numbers; its `key()` is a
stable hash (with the SSL checkpoint's or the array dir's content hash), so a
store computed with other settings is never reused. Bad audio raises
`BadAudio` with a reason that prepare lists under `skipped`.
"""

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from jaxser.config import ConfigError
from jaxser.data import arrays, ssl

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


SPECTROGRAMS = ("logmel", "mfcc")  # the kinds the 2-D CNN and TIM-Net read
KINDS = ("logmel", "mfcc", "opensmile:<set>:<lld|functionals>", "ssl:<checkpoint dir>[:<layers>]",
         "npy:<dir>")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    # "logmel", "mfcc" (TIM-Net), "opensmile:<set>:<level>" (level "lld": a
    # vector per 10 ms frame; "functionals": one vector per utterance),
    # "ssl:<checkpoint dir>[:<layers>]" or "npy:<dir>"
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
        parsed = (opensmile_spec(self.kind), ssl.parse(self.kind), arrays.parse(self.kind))
        if self.kind not in SPECTROGRAMS and not any(parsed):
            raise ConfigError(f"unknown feature kind {self.kind!r}; known: {list(KINDS)}")
        if (spec := ssl.parse(self.kind)) and ssl.sample_rate_of(spec[0]) != self.sample_rate:
            raise ConfigError(
                f"{spec[0]} reads audio at {ssl.sample_rate_of(spec[0])} Hz: set "
                f"data.sample_rate (prepare --sample_rate) to it, not {self.sample_rate}"
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
        """The width of a stored frame (all SSL layers: their widths side by side)."""
        if spec := opensmile_spec(self.kind):
            return len(_smile(*spec).feature_names)
        if spec := ssl.parse(self.kind):
            return ssl.layer_count(*spec) * ssl.hidden_states(ssl.read_config(spec[0]))[1]
        if folder := arrays.parse(self.kind):
            return arrays.layout(folder).dim
        return self.n_mfcc if self.kind == "mfcc" else self.n_mels

    @property
    def layers(self) -> int:
        """How many hidden layers a stored frame holds side by side (1 but for all
        the layers of an SSL model)."""
        if spec := ssl.parse(self.kind):
            return ssl.layer_count(*spec)
        if folder := arrays.parse(self.kind):
            return arrays.layout(folder).layers
        return 1

    @property
    def spectrogram(self) -> bool:
        """Log-mel or MFCC: an image the 2-D CNN can read."""
        return self.kind in SPECTROGRAMS

    @property
    def per_utterance(self) -> bool:
        """One vector per utterance (openSMILE functionals, (D,) arrays), not one per frame."""
        if spec := opensmile_spec(self.kind):
            return spec[1] == "functionals"
        if folder := arrays.parse(self.kind):
            return arrays.layout(folder).rank == 1
        return False

    @property
    def frames_per_second(self) -> float:
        if spec := ssl.parse(self.kind):
            return self.sample_rate / ssl.stride(spec[0])
        if folder := arrays.parse(self.kind):
            return arrays.layout(folder).frames_per_second
        return self.sample_rate / self.hop_length

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def source_identity(self) -> str | None:
        """The content hash of what the features come from beyond the settings:
        an SSL checkpoint's files, an array dir's file list; None for the rest."""
        if spec := ssl.parse(self.kind):
            return ssl.identity(spec[0])
        if folder := arrays.parse(self.kind):
            return arrays.layout(folder).fingerprint
        return None

    def key(self) -> str:
        """Stable 10-hex-digit hash of the settings (the store key), with the
        checkpoint's or array dir's content hash where there is one."""
        d = self.to_dict()
        if (identity := self.source_identity()) is not None:
            d["source_identity"] = identity
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:10]


def from_config(config) -> FeatureConfig:
    """The feature settings of a run config's `data` section."""
    d = config.data
    return FeatureConfig(kind=d.features, sample_rate=d.sample_rate, n_mels=d.n_mels)


def statistics(total: np.ndarray, total_sq: np.ndarray, frames: int) -> dict:
    """Mean and std per bin from the sums of frames and of their squares over
    `frames` frames (rounded to 6 decimals: the manifest's "stats")."""
    frames = max(frames, 1)
    mean = total / frames
    std = np.sqrt(np.maximum(total_sq / frames - mean**2, 1e-12))
    return {"mean": mean.round(6).tolist(), "std": std.round(6).tolist()}


VIDEO = (".avi", ".mp4", ".mkv", ".mov", ".webm")  # their audio track is read through PyAV


def decode(path: str, start: float = 0.0, end: float = 0.0) -> tuple[np.ndarray, int]:
    """(samples [channels, n] float32, rate) of the file, or of its segment from
    `start` to `end` seconds (end 0: to the file's end; only that part is read).
    Audio inside video files is read through PyAV."""
    import soundfile as sf  # the audio libraries: when audio is read

    if path.lower().endswith(VIDEO):
        wave, rate = _decode_av(path)
        return _segment(wave, rate, start, end), rate
    try:
        if not (start or end):
            wave, rate = sf.read(path, dtype="float32", always_2d=True)
            return wave.T, rate
        info = sf.info(path)
        _check_segment(start, end, info.frames / info.samplerate)
        first = round(start * info.samplerate)
        last = round(end * info.samplerate) if end else info.frames
        wave, rate = sf.read(path, start=first, stop=last, dtype="float32", always_2d=True)
    except BadAudio:
        raise
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, ...
        raise BadAudio(f"unreadable audio ({type(e).__name__}: {e})") from e
    return wave.T, rate


def _check_segment(start: float, end: float, duration: float) -> None:
    """BadAudio when a segment does not lie in its file (10 ms of slack at the end)."""
    if start < 0 or (end and end <= start) or start >= duration or end > duration + 0.01:
        raise BadAudio(f"segment {start:g}-{end:g} s outside the file ({duration:.2f} s)")


def _segment(wave: np.ndarray, rate: int, start: float, end: float) -> np.ndarray:
    if not (start or end):
        return wave
    _check_segment(start, end, wave.shape[1] / rate)
    return wave[:, round(start * rate) : round(end * rate) if end else None]


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


def load_audio(
    path: str, sample_rate: int, start: float = 0.0, end: float = 0.0, channel: int = 0
) -> np.ndarray:
    """Mono float32 wave at `sample_rate` (of a segment, see `decode`; `channel`
    0: the mean of the channels, k >= 1: the k-th); raises BadAudio for empty,
    NaN or silent audio, a segment outside the file or a channel it lacks."""
    import soxr  # resampling: when audio is read

    wave, rate = decode(path, start, end)
    if wave.size == 0:
        raise BadAudio("zero-length audio")
    if not np.all(np.isfinite(wave)):
        raise BadAudio("audio holds NaN or infinite samples")
    if channel > len(wave):
        raise BadAudio(f"no channel {channel} (the file has {len(wave)})")
    wave = wave[channel - 1] if channel else wave.mean(axis=0)
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
    if spec := ssl.parse(config.kind):
        x = ssl.extract(wave, *spec)
        if not np.all(np.isfinite(x)):
            raise BadAudio(f"the SSL model gave NaN or infinite values for {config.kind}")
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


def featurize(
    path: str, config: FeatureConfig, start: float = 0.0, end: float = 0.0, channel: int = 0
) -> np.ndarray:
    """File (or its segment and channel, see `load_audio`) -> features [frames,
    dim]; raises BadAudio with the reason. For "npy:" features the file is the
    utterance's array."""
    if folder := arrays.parse(config.kind):
        try:
            return arrays.load(Path(path), arrays.layout(folder))
        except arrays.BadArray as e:
            raise BadAudio(str(e)) from None
    wave = load_audio(path, config.sample_rate, start, end, channel)
    if wave.size < config.win_length:
        raise BadAudio(f"audio shorter than one analysis window ({wave.size} samples)")
    return compute(wave, config)


def featurize_or_reason(
    source: tuple[str, float, float, int], config: FeatureConfig
) -> tuple[np.ndarray | None, str]:
    """`featurize` of a (path, start, end, channel) for worker pools: (features, "")
    or (None, reason); never raises BadAudio."""
    try:
        return featurize(*source[:1], config, *source[1:]), ""
    except BadAudio as e:
        return None, str(e)
