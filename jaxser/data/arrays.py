"""Features a user computed elsewhere: one .npy array per utterance.

`data.features = "npy:<dir>"`. The array of utterance `utt_id` of corpus
`corpus` is `<dir>/<corpus>-<utt_id>.npy`, or EmoBox's key
`<dir>/<corpus>-<file stem>.npy` (e.g. `emodb-03a01Wa.npy`); files may sit in
sub-folders. Shapes: (T, D) frames, (L + 1, T, D) every hidden layer of an
SSL model (stored as [T, (L + 1) * D] rows, as `ssl:<dir>:all` stores them), or
(D,) one vector per utterance. Every array of a dir has the same rank and
width; `<dir>/features.json` may give `{"frames_per_second": 100}` (default 50,
the rate of wav2vec2-style encoders) for crops measured in seconds.

Arrays are read with `allow_pickle=False`: reading a data file never runs code.
"""

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np

from jaxser.config import ConfigError

SIDECAR = "features.json"
DEFAULT_FRAMES_PER_SECOND = 50.0


class ArrayError(ConfigError):
    """Arrays of a dir that do not fit together (rank, width), an unreadable one, or
    utterances without one."""


class BadArray(ValueError):
    """One array that cannot be used (NaN, empty), with the reason: skipped."""


def parse(kind: str) -> str | None:
    """The dir of "npy:<dir>", None for another kind."""
    if not kind.startswith("npy:"):
        return None
    folder = kind.removeprefix("npy:")
    if not folder:
        raise ConfigError("feature kind 'npy:' names no folder: npy:<dir>")
    return folder


@dataclasses.dataclass(frozen=True)
class Layout:
    """What the arrays of a dir are: their rank, layers, width and frame rate."""

    rank: int  # 1: a vector per utterance; 2: frames; 3: layers of frames
    layers: int
    width: int  # D, per layer
    frames_per_second: float
    files: int
    fingerprint: str

    @property
    def dim(self) -> int:
        return self.layers * self.width


def index(folder: str) -> dict[str, Path]:
    """name (without .npy) -> path of every array under `folder`."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConfigError(f"npy feature folder {folder} not found")
    found = {}
    for p in sorted(root.rglob("*.npy")):
        if not any(part.startswith(".") for part in p.relative_to(root).parts):
            found.setdefault(p.stem, p)
    if not found:
        raise ConfigError(f"npy feature folder {folder} holds no .npy files")
    return found


def shape_of(path: Path) -> tuple[int, ...]:
    """An array's shape from its header (the data are not read)."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False).shape
    except Exception as e:  # ValueError, OSError, ...: not a readable .npy
        raise ArrayError(f"{path}: not a readable .npy array ({type(e).__name__}: {e})") from e


def layout(folder: str) -> Layout:
    """The dir's layout, from its first array (by name) and its sidecar."""
    files = index(folder)
    stamp = tuple((str(p), p.stat().st_size) for p in files.values())
    return _layout(str(Path(folder).expanduser().resolve()), stamp)


@functools.cache
def _layout(folder: str, stamp: tuple) -> Layout:
    import hashlib

    first = Path(stamp[0][0])
    shape = shape_of(first)
    if len(shape) not in (1, 2, 3):
        raise ArrayError(f"{first}: shape {shape}; arrays are (T, D), (L+1, T, D) or (D,)")
    fps = DEFAULT_FRAMES_PER_SECOND
    if (sidecar := Path(folder) / SIDECAR).is_file():
        fps = float(json.loads(sidecar.read_text()).get("frames_per_second", fps))
    h = hashlib.sha256(json.dumps([[Path(p).relative_to(folder).as_posix(), n]
                                   for p, n in stamp]).encode())  # fmt: skip
    return Layout(
        rank=len(shape),
        layers=shape[0] if len(shape) == 3 else 1,
        width=shape[-1],
        frames_per_second=fps,
        files=len(stamp),
        fingerprint=h.hexdigest()[:16],
    )


def names_for(corpus: str, utt_id: str, path: str) -> tuple[str, ...]:
    """The names an utterance's array may have: `<corpus>-<utt_id>`, EmoBox's
    `<corpus>-<file stem>`, and for a corpus read from EmoBox's metadata
    (`emobox:<ds>`, whose utt ids are EmoBox's keys) the key itself."""
    names = [f"{corpus}-{utt_id}", f"{corpus}-{Path(path).stem}"]
    if corpus.startswith("emobox:"):
        names.insert(0, utt_id)
    return tuple(dict.fromkeys(names))


def match(folder: str, utterances) -> tuple[dict[str, Path], list[str]]:
    """(utt_id -> array path, the utterances without an array as "<corpus>-<utt_id>"),
    after checking that every matched array has the dir's rank and width
    (ArrayError naming the first that does not)."""
    files, want = index(folder), layout(folder)
    found, missing = {}, []
    for u in utterances:
        hit = next((files[n] for n in names_for(u.corpus, u.utt_id, u.path) if n in files), None)
        if hit is None:
            missing.append(f"{u.corpus}-{u.utt_id}")
            continue
        check_shape(hit, shape_of(hit), want)
        found[u.utt_id] = hit
    return found, missing


def check_shape(path, shape: tuple[int, ...], want: Layout) -> None:
    expect = {1: "(D,)", 2: "(T, D)", 3: "(L+1, T, D)"}[want.rank]
    layers = shape[0] if len(shape) == 3 else 1
    if len(shape) != want.rank or shape[-1] != want.width or layers != want.layers:
        raise ArrayError(
            f"{path}: shape {shape}, but the dir's arrays are {expect} with "
            + (f"L+1={want.layers}, " if want.rank == 3 else "")
            + f"D={want.width} (as its first array)"
        )


def load(path: Path, want: Layout) -> np.ndarray:
    """The stored frames of one array: [T, D], [T, (L+1) * D] or [1, D] float32.
    Raises BadArray with the reason for NaN/inf or an empty array."""
    x = np.load(path, allow_pickle=False)
    check_shape(path, x.shape, want)
    x = np.asarray(x, np.float32)
    if x.size == 0:
        raise BadArray("empty array")
    if not np.all(np.isfinite(x)):
        raise BadArray("array holds NaN or infinite values")
    if x.ndim == 1:
        return x[None]
    if x.ndim == 3:
        return np.ascontiguousarray(x.transpose(1, 0, 2).reshape(x.shape[1], -1))
    return x
