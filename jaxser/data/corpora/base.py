"""What every corpus adapter shares: the utterance record, skip reports, the scan.

An adapter is a `Corpus`: its name, its emotions (canonical names), its native
sample rate, a description of its published layout, and a `parse` function that
walks a folder in that layout. `Corpus.scan` wraps `parse` with the checks every
corpus needs (empty files, a folder that matches nothing).
"""

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Utterance:
    path: str
    corpus: str
    utt_id: str
    emotion: str  # canonical name (labels.EMOTIONS) or labels.OTHER
    speaker: str
    gender: str  # "f", "m" or "u" (unknown)
    text_id: str
    # a segment of a longer file (seconds; end 0: to the file's end)
    start: float = 0.0
    end: float = 0.0
    channel: int = 0  # 0: the mean of the file's channels; k >= 1: its k-th channel


def speakers_are_utterances(utterances) -> bool:
    """Every utterance is its own speaker (metadata that names no speakers, as
    some of EmoBox's): no speaker-independent split is possible."""
    return bool(utterances) and all(u.speaker == u.utt_id for u in utterances)


@dataclasses.dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclasses.dataclass
class Scan:
    utterances: list[Utterance] = dataclasses.field(default_factory=list)
    skipped: list[Skipped] = dataclasses.field(default_factory=list)

    def skip(self, path: os.PathLike | str, reason: str) -> None:
        self.skipped.append(Skipped(str(path), reason))


class LayoutError(ValueError):
    """A folder matches nothing of its corpus's published layout."""


Parser = Callable[[Path, str], Scan]


@dataclasses.dataclass(frozen=True)
class Corpus:
    name: str
    emotions: tuple[str, ...]
    sample_rate: int
    layout: str
    parse: Parser = dataclasses.field(repr=False)
    # For synthetic corpora: the recipe that renders the folder `parse` reads.
    synthetic: bool = False

    def scan(self, root: os.PathLike | str) -> Scan:
        """Utterance records of the corpus at `root`, sorted by utt_id, plus skipped files."""
        root = Path(root).expanduser()
        if not root.is_dir():
            raise LayoutError(
                f"{self.name}: {root} is not a folder. Expected layout: {self.layout}"
            )
        scan = self.parse(root, self.name)
        kept = []
        for utt in scan.utterances:
            if os.path.getsize(utt.path) == 0:
                scan.skip(utt.path, "empty file (0 bytes)")
            else:
                kept.append(utt)
        if not kept and not scan.skipped:
            raise LayoutError(
                f"{self.name}: nothing under {root} matches the published layout. "
                f"Expected layout: {self.layout}"
            )
        ids = [u.utt_id for u in kept]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise LayoutError(f"{self.name}: duplicate utterance ids under {root}: {dup}")
        scan.utterances = sorted(kept, key=lambda u: u.utt_id)
        scan.skipped = sorted(set(scan.skipped), key=lambda s: s.path)
        return scan


def files_under(folder: Path) -> list[Path]:
    """All regular files below `folder`, sorted, hidden ones (.DS_Store, ...) excluded."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(q.startswith(".") for q in p.parts[-1:])
    )
