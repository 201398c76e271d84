"""MSP-IMPROV: audio `session{k}/<S01A>/<R,S,P,T>/MSP-IMPROV-S01A-F01-R-FM01.wav`,
labels in `Evaluation.txt`, lines `UTD-IMPROV-S01A-F01-R-FM01.avi; A; ...`.

Label ids use `UTD-` and `.avi` where the audio uses `MSP-` and `.wav`; we match
on the shared middle. Categories A H S N; O (other) becomes `other`, X (no
agreement) is skipped. The speaker is the F01/M01 field.
"""

import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under
from jaxser.data.labels import OTHER

LABELS = {"A": "angry", "H": "happy", "S": "sad", "N": "neutral", "O": OTHER}
UNUSABLE = {"X": "no agreed label (X)"}
LAYOUT = (
    "session{k}/<S01A>/<R,S,P,T>/MSP-IMPROV-S01A-F01-R-FM01.wav with labels in Evaluation.txt "
    "(lines 'UTD-IMPROV-S01A-F01-R-FM01.avi; A; ...')"
)
_LABEL = re.compile(r"^UTD-(IMPROV-[\w-]+)\.avi;\s*([A-Z])\s*;")
_AUDIO = re.compile(r"^MSP-(IMPROV-(S\d\d[A-Z])-([FM]\d\d)-([RSPT])-[\w]+)\.wav$")


def parse(root: Path, corpus: str) -> Scan:
    label_files = sorted(root.rglob("Evaluation.txt"))
    if not label_files or not any(root.glob("session*")):
        raise LayoutError(
            f"{corpus}: need session*/ folders and Evaluation.txt under {root}. "
            f"Expected layout: {LAYOUT}"
        )
    labels = {}
    for label_file in label_files:
        for line in label_file.read_text(errors="replace").splitlines():
            if m := _LABEL.match(line.strip()):
                labels[m.group(1)] = m.group(2)
    scan = Scan()
    for session in sorted(d for d in root.glob("session*") if d.is_dir()):
        for path in files_under(session):
            m = _AUDIO.match(path.name)
            if not m:
                scan.skip(path, "file name does not match MSP-IMPROV-<S01A>-<F01>-<R>-<id>.wav")
                continue
            key, text, speaker, _ = m.groups()
            code = labels.get(key)
            if code is None:
                scan.skip(path, "no label in Evaluation.txt")
            elif code in UNUSABLE:
                scan.skip(path, UNUSABLE[code])
            elif code not in LABELS:
                scan.skip(path, f"unknown emotion code {code!r}")
            else:
                scan.utterances.append(
                    Utterance(
                        str(path), corpus, key, LABELS[code], speaker, speaker[0].lower(), text
                    )
                )
    return scan


CORPUS = Corpus("msp_improv", tuple(sorted(set(LABELS.values()) - {OTHER})), 48000, LAYOUT, parse)
