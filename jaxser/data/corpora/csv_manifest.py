"""A CSV manifest as a corpus source: `--corpus csv:<name> --manifest FILE.csv
--path ROOT [--map anger=angry,...]` (nkululeko's convention).

Columns `file,emotion,speaker`, optionally `gender` and `language` (read, not
needed), in any order; `file` relative to ROOT or absolute. Emotion names map
to the canonical ones through the usual spellings and `--map` (`--map
ps=surprise,xx=other`). Rows that cannot be used are skipped with the reason: a
file that does not exist, an emotion that maps to nothing, a file listed
twice, an empty speaker. The utterance id is the file's path under ROOT
without its suffix, `/` written `_`.
"""

import csv
from pathlib import Path

from jaxser.config import ConfigError
from jaxser.data.corpora import external
from jaxser.data.corpora.base import Scan, Utterance

REQUIRED = ("file", "emotion", "speaker")
GENDERS = {"f": "f", "female": "f", "w": "f", "woman": "f", "m": "m", "male": "m", "man": "m"}


def read_rows(manifest: str | Path) -> list[dict]:
    """The manifest's rows; ConfigError when it lacks a required column (naming
    the columns it has)."""
    path = Path(manifest).expanduser()
    if not path.is_file():
        raise ConfigError(f"--manifest {manifest}: no such file")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise ConfigError(
                f"{path} has no column {missing}; it has {columns} (needed: file, emotion, "
                "speaker; optional: gender, language)"
            )
        return [
            {k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader
        ]


def parse(root: Path, corpus: str, manifest: str, user_map: dict) -> Scan:
    scan, seen = Scan(), set()
    for n, row in enumerate(read_rows(manifest), 2):  # line 1: the header
        name = row["file"]
        path = Path(name) if Path(name).is_absolute() else root / name
        if not name:
            scan.skip(root / f"<line {n}>", f"line {n}: empty file column")
            continue
        try:
            rel = path.resolve().relative_to(root.resolve()).with_suffix("")
            utt_id = rel.as_posix().replace("/", "_")
        except ValueError:  # an absolute path outside ROOT
            utt_id = path.with_suffix("").as_posix().strip("/").replace("/", "_")
        if utt_id in seen:
            scan.skip(path, f"listed twice (line {n}; the first is kept)")
            continue
        seen.add(utt_id)
        if not path.is_file():
            scan.skip(path, f"no such file (line {n})")
            continue
        emotion = external.canonical(row["emotion"], user_map)
        if emotion is None:
            scan.skip(
                path,
                f"unknown emotion {row['emotion']!r} (line {n}; map it: --map "
                f"{row['emotion'].lower() or 'NAME'}=<emotion or other>)",
            )
            continue
        if not row["speaker"]:
            scan.skip(path, f"empty speaker (line {n})")
            continue
        gender = GENDERS.get(row.get("gender", "").lower(), "u")
        scan.utterances.append(
            Utterance(str(path), corpus, utt_id, emotion, row["speaker"], gender, "")
        )
    return scan
