"""RAVDESS: `Actor_AA/MM-VV-EE-II-SS-RR-AA.wav`; VV 01 speech (02 song is skipped).

Odd actor numbers are male, even ones female. The `Actor_AA` folders are found
at any depth: the folder holding them, or the download's top folder
(`Audio_Speech_Actors_01-24/`, often under `audio/`) may be given.
"""

import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under

EMOTION_CODES = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
LAYOUT = "Actor_AA/MM-VV-EE-II-SS-RR-AA.wav (EE emotion 01-08, VV 01 speech, 02 song)"
_ACTOR = re.compile(r"^Actor_\d+$")
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.wav$")


def parse(root: Path, corpus: str) -> Scan:
    actors = [d for d in sorted(root.rglob("Actor_*")) if d.is_dir() and _ACTOR.match(d.name)]
    if not actors:
        raise LayoutError(f"{corpus}: no Actor_AA folders under {root}. Expected layout: {LAYOUT}")
    scan = Scan()
    for folder in actors:
        for path in files_under(folder):
            m = _NAME.match(path.name)
            if not m:
                scan.skip(path, "file name does not match MM-VV-EE-II-SS-RR-AA.wav")
                continue
            _, channel, code, _, statement, _, actor = m.groups()
            if channel != "01":
                scan.skip(path, "song, not speech (VV=02)")
                continue
            if code not in EMOTION_CODES:
                scan.skip(path, f"unknown emotion code {code!r}")
                continue
            scan.utterances.append(
                Utterance(
                    str(path),
                    corpus,
                    path.stem,
                    EMOTION_CODES[code],
                    actor,
                    "m" if int(actor) % 2 else "f",
                    statement,
                )
            )
    return scan


CORPUS = Corpus("ravdess", tuple(sorted(EMOTION_CODES.values())), 48000, LAYOUT, parse)
