"""Built-in synthetic corpora rendered with eSpeak NG.

Emotion is rendered by prosody only (rate, pitch level, pitch range, volume, and
the sentence-final intonation), as relative changes from neutral following
Murray & Arnott (1993) and Burkhardt & Sendlmeier (2000). Each corpus is a
seeded `Recipe`: language and texts, speakers (voice variant + their own pitch
and rate baselines), emotions, acting intensity, per-utterance jitter, and a
channel (sample rate, band limit, noise, reverberation). A recipe writes its
files in the layout of the real corpus it mirrors, and they are read back by
that corpus's adapter, so the synthetic default runs the real code path.

Rendering is deterministic: the same recipe and seed give the same bytes,
whatever the number of worker processes.
"""

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from jaxser.data.corpora import casia, emodb, emovo, enterface, texts
from jaxser.data.corpora.base import Corpus

# emotion -> (rate change (relative), pitch level (eSpeak units), pitch range (units),
#             volume change (relative), sentence-final punctuation), at intensity 1.
PROSODY = {
    "neutral": (0.00, 0, 0, 0.00, "."),
    "angry": (0.12, 8, 30, 0.60, "!"),
    "happy": (0.12, 16, 28, 0.30, "!"),
    "surprise": (0.06, 22, 38, 0.30, "?"),
    "fear": (0.28, 20, 14, 0.00, "."),
    "sad": (-0.28, -8, -30, -0.30, "."),
    "disgust": (-0.25, -15, 16, -0.30, "."),
    "boredom": (-0.12, -6, -32, -0.30, "."),
}
_STAMP = ".rendered.json"
_CHUNK = 128  # jobs per fresh render process


@dataclasses.dataclass(frozen=True)
class Channel:
    sample_rate: int
    highpass_hz: float = 0.0
    lowpass_hz: float = 0.0  # 0 = none
    snr_db: float | None = None  # None = clean
    rt60_s: float = 0.0  # 0 = dry


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    mirrors: Corpus
    language: str  # eSpeak NG voice language
    texts: dict[str, str]
    speakers: tuple[tuple[str, str], ...]  # (speaker id as in the real corpus, gender)
    emotions: tuple[str, ...]
    intensity: float  # how far from neutral the acting goes
    jitter: float  # per-utterance prosody noise (1 = default spread)
    channel: Channel
    relpath: Callable[[str, str, str], str]  # (speaker, emotion, text id) -> file path
    keep: int | None = None  # utterances kept of the full grid (EmoDB's are uneven)


@dataclasses.dataclass(frozen=True)
class Job:
    """Everything needed to render one file: picklable, order-independent."""

    path: str
    text: str
    voice: str
    rate: float
    pitch: float
    range_: float
    volume: float
    channel: Channel
    seed: tuple[int, ...]


def _inverse(codes: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in codes.items()}


_EMODB_CODE = _inverse(emodb.EMOTION_CODES)
_EMOVO_CODE = _inverse(emovo.EMOTION_CODES)
_ENTERFACE_FOLDER = _inverse(enterface.EMOTION_FOLDERS)
_ENTERFACE_ABBR = {
    "angry": "an",
    "disgust": "di",
    "fear": "fe",
    "happy": "ha",
    "sad": "sa",
    "surprise": "su",
}


def _enterface_path(speaker: str, emotion: str, text: str) -> str:
    # The published corpus's quirks, so the adapter's handling of them is exercised.
    n = int(speaker[1:])
    folder, em = _ENTERFACE_FOLDER[emotion], _ENTERFACE_ABBR[emotion]
    if n == 6:
        return f"subject 6/{folder}/s6_{em}_{text}.wav"
    name = {11: f"s12_{em}_{text}", 3: f"s_3_{em}_{text}"}.get(n, f"s{n}_{em}_{text}")
    return f"subject {n}/{folder}/sentence {text}/{name}.wav"


_ENTERFACE_SPEAKERS = tuple(
    (f"s{n}", "f" if n in (2, 8, 15, 21, 27, 33, 38, 42) else "m") for n in range(1, 45) if n != 12
)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "synth_emodb",
            emodb.CORPUS,
            "de",
            texts.GERMAN,
            tuple((s, "m" if s in emodb.MALE else "f") for s in sorted(emodb.MALE | emodb.FEMALE)),
            emodb.CORPUS.emotions,
            intensity=1.0,
            jitter=1.0,
            channel=Channel(16000, highpass_hz=60),
            relpath=lambda s, e, t: f"wav/{s}{t}{_EMODB_CODE[e]}a.wav",
            keep=535,
        ),
        Recipe(
            "synth_casia",
            casia.CORPUS,
            "cmn",
            texts.MANDARIN,
            tuple(casia.GENDER.items()),
            casia.CORPUS.emotions,
            intensity=1.3,
            jitter=0.8,
            channel=Channel(16000, highpass_hz=100, lowpass_hz=6500, snr_db=30),
            relpath=lambda s, e, t: f"{s}/{e}/{t}.wav",
        ),
        Recipe(
            "synth_enterface",
            enterface.CORPUS,
            "en",
            texts.ENGLISH,
            _ENTERFACE_SPEAKERS,
            enterface.CORPUS.emotions,
            intensity=0.6,
            jitter=1.3,
            channel=Channel(48000, highpass_hz=150, lowpass_hz=7000, snr_db=20, rt60_s=0.35),
            relpath=_enterface_path,
        ),
        Recipe(
            "synth_emovo",
            emovo.CORPUS,
            "it",
            texts.ITALIAN,
            tuple((s, s[0]) for s in ("f1", "f2", "f3", "m1", "m2", "m3")),
            emovo.CORPUS.emotions,
            intensity=0.9,
            jitter=1.0,
            channel=Channel(48000, highpass_hz=40),
            relpath=lambda s, e, t: f"{s}/{_EMOVO_CODE[e]}-{s}-{t}.wav",
        ),
    )
}

# Only variants without `breath`/`klatt` settings: those draw noise from a source we
# cannot seed (f2, f3, f5 give different samples in every process).
_MALE_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8")
_FEMALE_VARIANTS = ("f1", "f4", "belinda", "linda")


def plan(recipe: Recipe, seed: int, max_texts: int | None = None) -> list[Job]:
    """The render jobs of a recipe: one per kept (speaker, emotion, text), sorted by path."""
    rng = np.random.default_rng([seed, 0])
    voices = {}
    for spk, gender in recipe.speakers:
        variants = _MALE_VARIANTS if gender == "m" else _FEMALE_VARIANTS
        # Speaker baselines: voice variant, pitch level and speaking rate.
        voices[spk] = (
            f"{recipe.language}+{variants[rng.integers(len(variants))]}",
            rng.normal(50, 6),
            rng.normal(170, 12),
        )
    text_ids = sorted(recipe.texts)[:max_texts]
    grid = [(s, e, t) for s, _ in recipe.speakers for e in recipe.emotions for t in text_ids]
    if recipe.keep is not None and max_texts is None and recipe.keep < len(grid):
        grid = [grid[i] for i in sorted(rng.choice(len(grid), recipe.keep, replace=False))]
    jobs = []
    for i, (spk, emotion, text_id) in enumerate(grid):
        r = np.random.default_rng([seed, 1, i])
        d_rate, d_pitch, d_range, d_volume, punct = PROSODY[emotion]
        k, j = recipe.intensity, recipe.jitter
        voice, pitch0, rate0 = voices[spk]
        jobs.append(
            Job(
                path=recipe.relpath(spk, emotion, text_id),
                text=recipe.texts[text_id].rstrip(".!?。") + punct,
                voice=voice,
                rate=rate0 * (1 + k * d_rate + j * r.normal(0, 0.05)),
                pitch=pitch0 + k * d_pitch + j * r.normal(0, 3),
                range_=50 + k * d_range + j * r.normal(0, 5),
                volume=100 * (1 + k * d_volume + j * r.normal(0, 0.08)),
                channel=recipe.channel,
                seed=(seed, 2, i),
            )
        )
    return sorted(jobs, key=lambda job: job.path)


def apply_channel(
    wave: np.ndarray, rate: int, channel: Channel, rng: np.random.Generator
) -> np.ndarray:
    """Recording channel: silence margins, reverberation, resampling, band limit, noise."""
    import scipy.signal  # a second to import: only when a corpus is rendered

    margins = rng.integers(int(0.1 * rate), int(0.3 * rate), size=2)
    wave = np.concatenate([np.zeros(margins[0]), wave, np.zeros(margins[1])])
    if channel.rt60_s > 0:
        t = np.arange(int(channel.rt60_s * rate)) / rate
        ir = rng.normal(0, 1, t.size) * np.exp(-6.9 * t / channel.rt60_s) * 0.1
        ir[0] = 1.0
        wave = scipy.signal.fftconvolve(wave, ir)[: wave.size]
    import soxr  # the audio libraries: when a corpus is rendered

    wave = soxr.resample(wave, rate, channel.sample_rate)
    sr = channel.sample_rate
    if channel.highpass_hz:
        wave = scipy.signal.sosfilt(
            scipy.signal.butter(4, channel.highpass_hz, "highpass", fs=sr, output="sos"), wave
        )
    if channel.lowpass_hz:
        wave = scipy.signal.sosfilt(
            scipy.signal.butter(6, channel.lowpass_hz, "lowpass", fs=sr, output="sos"), wave
        )
    if channel.snr_db is not None:
        power = np.mean(wave**2) + 1e-12
        wave = wave + rng.normal(0, np.sqrt(power / 10 ** (channel.snr_db / 10)), wave.size)
    return np.clip(wave, -1.0, 1.0)


def render_job(job: Job, root: str) -> float:
    """Renders one job to `root/job.path` (16-bit PCM); returns its duration in seconds."""
    import soundfile as sf  # the audio libraries and eSpeak: when a corpus is rendered

    from jaxser.data.corpora.espeak import engine

    es = engine()
    wave = (
        es.synth(
            job.text,
            job.voice,
            round(job.rate),
            round(job.pitch),
            round(job.range_),
            round(job.volume),
        ).astype(np.float64)
        / 32768.0
    )
    wave = apply_channel(wave, es.sample_rate, job.channel, np.random.default_rng(job.seed))
    out = Path(root) / job.path
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, wave, job.channel.sample_rate, subtype="PCM_16")
    return wave.size / job.channel.sample_rate


def render_chunk(jobs: list[Job], root: str) -> list[float]:
    """Renders jobs in order (in a fresh process: see `render`); their durations."""
    return [render_job(job, root) for job in jobs]


def is_rendered(root: os.PathLike | str, name: str, seed: int, max_texts: int | None) -> bool:
    stamp = Path(root) / _STAMP
    if not stamp.is_file():
        return False
    got = json.loads(stamp.read_text())
    return (got["recipe"], got["seed"], got["max_texts"]) == (name, seed, max_texts)


def render(
    name: str,
    root: os.PathLike | str,
    seed: int = 0,
    max_texts: int | None = None,
    workers: int = 1,
    progress: Callable | None = None,
) -> dict:
    """Renders recipe `name` into `root` (replacing an incomplete or different render).

    `max_texts` keeps only the first texts of the pool (small renders for tests).
    Returns the stamp: recipe, seed, number of files and seconds of audio. The
    stamp is written last, so an interrupted render is never taken as complete.
    """
    if name not in RECIPES:
        raise KeyError(f"unknown synthetic corpus {name!r}; known: {sorted(RECIPES)}")
    root = Path(root)
    if is_rendered(root, name, seed, max_texts):
        return json.loads((root / _STAMP).read_text())
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    jobs = plan(RECIPES[name], seed, max_texts)
    # eSpeak's samples depend on the calls its process made before, so the jobs are
    # cut into fixed chunks, each rendered in order by a fresh process: the bytes are
    # the same for any number of workers.
    chunks = [jobs[i : i + _CHUNK] for i in range(0, len(jobs), _CHUNK)]
    ctx = multiprocessing.get_context("spawn")  # also: eSpeak and TF are not fork-safe
    bar = progress(None, total=len(jobs)) if progress else None
    durations = []
    with concurrent.futures.ProcessPoolExecutor(
        max(1, workers), mp_context=ctx, max_tasks_per_child=1
    ) as pool:
        for chunk_durations in pool.map(render_chunk, chunks, [str(root)] * len(chunks)):
            durations += chunk_durations
            if bar is not None:
                bar.update(len(chunk_durations))
    if bar is not None:
        bar.close()
    stamp = {
        "recipe": name,
        "seed": seed,
        "max_texts": max_texts,
        "files": len(jobs),
        "audio_seconds": round(float(sum(durations)), 3),
    }
    tmp = root / (_STAMP + ".tmp")
    tmp.write_text(json.dumps(stamp))
    tmp.replace(root / _STAMP)
    return stamp


def corpus(name: str) -> Corpus:
    """The adapter entry of a synthetic corpus: the mirrored adapter, under its own name."""
    r = RECIPES[name]
    return dataclasses.replace(
        r.mirrors,
        name=name,
        emotions=tuple(sorted(r.emotions)),
        sample_rate=r.channel.sample_rate,
        synthetic=True,
    )
