"""CASIA (Mandarin): `<speaker>/<emotion>/<NNN>.wav`, NNN = text 201-250."""

from pathlib import Path

from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Utterance, files_under

EMOTION_FOLDERS = {
    "angry": "angry",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "surprise": "surprise",
}
GENDER = {"liuchanhg": "f", "wangzhe": "m", "zhaoquanyin": "f", "zhaozuoxiang": "m"}
LAYOUT = (
    "<speaker>/<emotion>/<NNN>.wav, speakers liuchanhg wangzhe zhaoquanyin zhaozuoxiang, "
    "emotion folders angry fear happy neutral sad surprise, NNN = text number"
)


def parse(root: Path, corpus: str) -> Scan:
    speakers = [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    if not any((d / e).is_dir() for d in speakers for e in EMOTION_FOLDERS):
        raise LayoutError(
            f"{corpus}: no <speaker>/<emotion>/ folders under {root}. Expected layout: {LAYOUT}"
        )
    scan = Scan()
    for path in files_under(root):
        rel = path.relative_to(root).parts
        if len(rel) != 3:
            scan.skip(path, "not at <speaker>/<emotion>/<NNN>.wav")
            continue
        speaker, folder, name = rel
        if folder not in EMOTION_FOLDERS:
            scan.skip(path, f"unknown emotion folder {folder!r}")
            continue
        if path.suffix.lower() != ".wav" or not path.stem.isdigit():
            scan.skip(path, "file name is not <NNN>.wav")
            continue
        scan.utterances.append(
            Utterance(
                str(path),
                corpus,
                f"{speaker}_{folder}_{path.stem}",
                EMOTION_FOLDERS[folder],
                speaker,
                GENDER.get(speaker, "u"),
                path.stem,
            )
        )
    return scan


CORPUS = Corpus("casia", tuple(sorted(EMOTION_FOLDERS.values())), 16000, LAYOUT, parse)
