"""Berlin EmoDB: `wav/SSTTTEV.wav`, e.g. `03a01Wa.wav`.

SS speaker, TTT text, E emotion code, V version.
"""

import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under

EMOTION_CODES = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
MALE = {"03", "10", "11", "12", "15"}
FEMALE = {"08", "09", "13", "14", "16"}
LAYOUT = (
    "wav/SSTTTEV.wav (e.g. wav/03a01Wa.wav): SS speaker, TTT text, E emotion code in "
    "W L E A F T N, V version"
)
_NAME = re.compile(r"^(\d\d)([a-z]\d\d)([A-Z])([a-z]?)\.wav$")


def parse(root: Path, corpus: str) -> Scan:
    folder = root / "wav"
    if not folder.is_dir():
        raise LayoutError(f"{corpus}: no wav/ folder under {root}. Expected layout: {LAYOUT}")
    scan = Scan()
    for path in files_under(folder):
        m = _NAME.match(path.name)
        if not m:
            scan.skip(path, "file name does not match SSTTTEV.wav")
            continue
        speaker, text, code, _ = m.groups()
        if code not in EMOTION_CODES:
            scan.skip(path, f"unknown emotion code {code!r}")
            continue
        gender = "m" if speaker in MALE else "f" if speaker in FEMALE else "u"
        scan.utterances.append(
            Utterance(str(path), corpus, path.stem, EMOTION_CODES[code], speaker, gender, text)
        )
    return scan


CORPUS = Corpus("emodb", tuple(sorted(EMOTION_CODES.values())), 16000, LAYOUT, parse)
