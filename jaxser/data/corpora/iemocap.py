"""IEMOCAP: audio `Session{1-5}/sentences/wav/<dialog>/<utt>.wav`, labels in
`Session{n}/dialog/EmoEvaluation/<dialog>.txt`, lines
`[start - end]\\t<utt>\\t<label>\\t[V, A, D]`.

`exc` (excited) merges into happy, as in the usual 4-class protocol; `fru` and
`oth` become `other` (kept, never a task class); `xxx` (no majority) is skipped.
The speaker is the session plus the **last** F/M of the utterance name
(`Ses01F_impro01_M012` is the male speaker of session 1).
"""

import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under
from jaxser.data.labels import OTHER

LABELS = {
    "neu": "neutral",
    "hap": "happy",
    "exc": "happy",
    "sad": "sad",
    "ang": "angry",
    "sur": "surprise",
    "fea": "fear",
    "dis": "disgust",
    "fru": OTHER,
    "oth": OTHER,
}
UNUSABLE = {"xxx": "no majority label (xxx)"}
LAYOUT = (
    "Session{1-5}/sentences/wav/<dialog>/<utt>.wav with labels in "
    "Session{n}/dialog/EmoEvaluation/<dialog>.txt"
)
_SESSION = re.compile(r"^Session(\d)$")
_LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\t(\S+)\t(\S+)\t")


def read_labels(path: Path) -> dict[str, str]:
    """utt name -> raw label code, from one EmoEvaluation file."""
    labels = {}
    for line in path.read_text(errors="replace").splitlines():
        if m := _LINE.match(line):
            labels[m.group(1)] = m.group(2)
    return labels


def parse(root: Path, corpus: str) -> Scan:
    sessions = [d for d in sorted(root.iterdir()) if d.is_dir() and _SESSION.match(d.name)]
    if not sessions or not any((s / "sentences" / "wav").is_dir() for s in sessions):
        raise LayoutError(
            f"{corpus}: no Session*/sentences/wav under {root}. Expected layout: {LAYOUT}"
        )
    scan = Scan()
    for session in sessions:
        n = int(_SESSION.match(session.name).group(1))
        labels: dict[str, str] = {}
        for label_file in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
            labels.update(read_labels(label_file))
        for path in files_under(session / "sentences" / "wav"):
            if path.suffix.lower() != ".wav":
                scan.skip(path, "not a .wav file")
                continue
            utt = path.stem
            code = labels.get(utt)
            if code is None:
                scan.skip(path, "no label in dialog/EmoEvaluation")
                continue
            if code in UNUSABLE:
                scan.skip(path, UNUSABLE[code])
                continue
            if code not in LABELS:
                scan.skip(path, f"unknown emotion code {code!r}")
                continue
            genders = re.findall(r"[FM]", utt.split("_")[-1]) or re.findall(r"[FM]", utt)
            if not genders:
                scan.skip(path, "no F/M speaker mark in the utterance name")
                continue
            g = genders[-1]
            scan.utterances.append(
                Utterance(
                    str(path),
                    corpus,
                    utt,
                    LABELS[code],
                    f"Ses{n:02d}{g}",
                    g.lower(),
                    path.parent.name,
                )
            )
    return scan


CORPUS = Corpus("iemocap", tuple(sorted(set(LABELS.values()) - {OTHER})), 16000, LAYOUT, parse)
