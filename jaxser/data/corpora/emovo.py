"""EMOVO (Italian): `<spk>/<emo>-<spk>-<sent>.wav`, speakers f1-f3 m1-m3."""

import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under

EMOTION_CODES = {
    "dis": "disgust",
    "gio": "happy",
    "neu": "neutral",
    "pau": "fear",
    "rab": "angry",
    "sor": "surprise",
    "tri": "sad",
}
LAYOUT = "<spk>/<emo>-<spk>-<sent>.wav, spk f1 f2 f3 m1 m2 m3, emo dis gio neu pau rab sor tri"
_NAME = re.compile(r"^([a-z]{3})-([fm]\d)-(\w+)\.wav$")
_SPEAKER = re.compile(r"^[fm]\d$")


def parse(root: Path, corpus: str) -> Scan:
    speakers = [d for d in sorted(root.iterdir()) if d.is_dir() and _SPEAKER.match(d.name)]
    if not speakers:
        raise LayoutError(
            f"{corpus}: no speaker folders (f1 ... m3) under {root}. Expected layout: {LAYOUT}"
        )
    scan = Scan()
    for folder in speakers:
        for path in files_under(folder):
            m = _NAME.match(path.name)
            if not m or m.group(2) != folder.name:
                scan.skip(path, "file name does not match <emo>-<spk>-<sent>.wav")
                continue
            code, speaker, sentence = m.groups()
            if code not in EMOTION_CODES:
                scan.skip(path, f"unknown emotion code {code!r}")
                continue
            scan.utterances.append(
                Utterance(
                    str(path), corpus, path.stem, EMOTION_CODES[code], speaker, speaker[0], sentence
                )
            )
    return scan


CORPUS = Corpus("emovo", tuple(sorted(EMOTION_CODES.values())), 48000, LAYOUT, parse)
