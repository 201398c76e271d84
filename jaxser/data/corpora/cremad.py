"""CREMA-D: `AudioWAV/AAAA_SSS_EEE_LL.wav`; speaker sex in `VideoDemographics.csv`.

`1076_MTI_SAD_XX.wav` of the published corpus has no audio: it is skipped as an
empty file (by the scan) or as zero-length audio (by prepare).
"""

import csv
import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under

EMOTION_CODES = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
LAYOUT = "AudioWAV/AAAA_SSS_EEE_LL.wav (EEE in ANG DIS FEA HAP NEU SAD), VideoDemographics.csv"
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})\.wav$")


def read_sex(path: Path) -> dict[str, str]:
    """Actor id -> "f" / "m" from VideoDemographics.csv (empty if the file is absent)."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {r["ActorID"].strip(): r["Sex"].strip()[:1].lower() for r in rows if r.get("ActorID")}


def parse(root: Path, corpus: str) -> Scan:
    folder = root / "AudioWAV"
    if not folder.is_dir():
        raise LayoutError(f"{corpus}: no AudioWAV/ folder under {root}. Expected layout: {LAYOUT}")
    sex = read_sex(root / "VideoDemographics.csv")
    scan = Scan()
    for path in files_under(folder):
        m = _NAME.match(path.name)
        if not m:
            scan.skip(path, "file name does not match AAAA_SSS_EEE_LL.wav")
            continue
        actor, sentence, code, _ = m.groups()
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
                sex.get(actor, "u"),
                sentence,
            )
        )
    return scan


CORPUS = Corpus("cremad", tuple(sorted(EMOTION_CODES.values())), 16000, LAYOUT, parse)
