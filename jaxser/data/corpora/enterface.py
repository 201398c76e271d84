"""eNTERFACE'05: `subject N/<emotion>/sentence M/sN_<em>_M.avi` (audio inside the AVI).

Quirks of the published corpus, handled here: there is no `subject 12` folder and
`subject 11` holds files named `s12_*`; `subject 6` has no `sentence` folders,
and six of its files have no sentence number either (`s6_an.avi`: their
sentence is unknown, text_id ""); some files are named `s_3_*`; one is
`s16_su_3avi.avi`. So the speaker comes
from the folder, never the file name. An extracted `.wav` beside an `.avi` of
the same name is read instead of the video.
"""

import re
from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under

EMOTION_FOLDERS = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprise",
}
LAYOUT = (
    "subject N/<emotion>/sentence M/sN_<em>_M.avi (or .wav), emotion folders anger disgust "
    "fear happiness sadness surprise; subject 6 has no sentence folders (<emotion>/<file>)"
)
_SUBJECT = re.compile(r"^subject (\d+)$")
_SENTENCE = re.compile(r"^sentence (\d+)$")
_TEXT_IN_NAME = re.compile(r"_(\d+)(?:avi)?$")
_AUDIO = {".avi", ".wav"}


def parse(root: Path, corpus: str) -> Scan:
    subjects = [d for d in sorted(root.iterdir()) if d.is_dir() and _SUBJECT.match(d.name)]
    if not subjects:
        raise LayoutError(
            f"{corpus}: no 'subject N' folders under {root}. Expected layout: {LAYOUT}"
        )
    scan = Scan()
    chosen: dict[tuple, Path] = {}
    for subject in subjects:
        speaker = f"s{int(_SUBJECT.match(subject.name).group(1))}"
        for path in files_under(subject):
            rel = path.relative_to(subject).parts
            if path.suffix.lower() not in _AUDIO:
                scan.skip(path, "not an .avi or .wav file")
                continue
            folder = rel[0]
            if folder not in EMOTION_FOLDERS:
                scan.skip(path, f"unknown emotion folder {folder!r}")
                continue
            sentence = _SENTENCE.match(rel[1]) if len(rel) == 3 else None
            if sentence:
                text = sentence.group(1)
            elif len(rel) == 2:  # subject 6: the sentence number only in the file name, if at all
                m = _TEXT_IN_NAME.search(path.stem)
                text = m.group(1) if m else ""
            else:
                scan.skip(path, "not at <emotion>/sentence M/<file> or <emotion>/<file>")
                continue
            key = (speaker, EMOTION_FOLDERS[folder], text, path.stem)
            # Prefer an extracted .wav over its .avi (cheaper and exact).
            if key not in chosen or path.suffix.lower() == ".wav":
                chosen[key] = path
    for (speaker, emotion, text, _), path in sorted(chosen.items()):
        scan.utterances.append(
            Utterance(
                str(path),
                corpus,
                f"{speaker}_{emotion}_{text}_{path.stem}",
                emotion,
                speaker,
                "u",
                text,
            )
        )
    return scan


CORPUS = Corpus("enterface", tuple(sorted(EMOTION_FOLDERS.values())), 48000, LAYOUT, parse)
