"""SAVEE: `AudioData/<SPK>/<code><NN>.wav`, or the flat `<SPK>_<code><NN>.wav`.

Speakers DC JE JK KL, all male; codes a d f h n sa su.
"""

import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under

EMOTION_CODES = {
    "a": "angry",
    "d": "disgust",
    "f": "fear",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprise",
}
SPEAKERS = {"DC", "JE", "JK", "KL"}
LAYOUT = "AudioData/<SPK>/<code><NN>.wav or <SPK>_<code><NN>.wav, SPK in DC JE JK KL"
_NESTED = re.compile(r"^([a-z]{1,2})(\d\d)\.wav$")
_FLAT = re.compile(r"^([A-Z]{2})_([a-z]{1,2})(\d\d)\.wav$")


def parse(root: Path, corpus: str) -> Scan:
    scan = Scan()
    matched = False
    for path in files_under(root):
        if path.suffix.lower() != ".wav":
            continue  # info files, video, landmarks of the full release
        if (m := _FLAT.match(path.name)) and m.group(1) in SPEAKERS:
            speaker, code, number = m.groups()
        elif (m := _NESTED.match(path.name)) and path.parent.name in SPEAKERS:
            speaker, (code, number) = path.parent.name, m.groups()
        else:
            scan.skip(path, "not <SPK>/<code><NN>.wav or <SPK>_<code><NN>.wav")
            continue
        matched = True
        if code not in EMOTION_CODES:
            scan.skip(path, f"unknown emotion code {code!r}")
            continue
        scan.utterances.append(
            Utterance(
                str(path),
                corpus,
                f"{speaker}_{code}{number}",
                EMOTION_CODES[code],
                speaker,
                "m",
                f"{code}{number}",
            )
        )
    if not matched:
        raise LayoutError(f"{corpus}: no SAVEE audio under {root}. Expected layout: {LAYOUT}")
    return scan


CORPUS = Corpus("savee", tuple(sorted(EMOTION_CODES.values())), 44100, LAYOUT, parse)
