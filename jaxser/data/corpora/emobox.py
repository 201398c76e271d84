"""EmoBox's metadata as a corpus source: `--corpus emobox:<dataset>`.

EmoBox (github emo-box/EmoBox, 2024) publishes, for each of its 32 corpora, a
folder `data/<ds>/` holding:

- `<ds>.jsonl`: one utterance a line: `key` ("emodb-03a01Wa"), `wav` (relative
  to the folder that holds `downloads/`), `emo`, `sample_rate`, `channel`
  (1-based), and `start_time` / `end_time` (seconds) where an utterance is a
  segment of a longer file (pavoque);
- `label_map.json` (some corpora name it otherwise, e.g. `label_dict.json`):
  emotion name -> display name; its keys may differ in case from the data's
  (emodb's "Neutral");
- `data.seg.wrd.stm`: a line per utterance whose tags `<id=...,spk=...,...>`
  name its speaker (ids may hold spaces); some corpora use the utterance id as
  speaker, which makes speaker-independent protocols impossible (the card
  says so);
- `fold_<k>/<ds>_{train,test}_fold_<k>.jsonl`: EmoBox's folds
  (`data.protocol=emobox_fold`, `data.fold=k`; not speaker-independent for
  every corpus).

Only these files are read (EmoBox's code is not used). Rows that cannot be used
are skipped with the reason: a file that does not exist, an emotion the label
map does not list, a duplicate key, an empty speaker, a segment outside its
file.
"""

import json
import re
from pathlib import Path

from jaxser.config import ConfigError
from jaxser.data import labels
from jaxser.data.corpora import external
from jaxser.data.corpora.base import Scan, Utterance

LABEL_MAPS = ("label_map.json", "label_dict.json")
STM = "data.seg.wrd.stm"
_TAGS = re.compile(r"<([^>]*)>")
_FOLD = re.compile(r"^(?P<ds>.+)_(?P<half>train|test)_fold_?(?P<k>\d+)\.jsonl$")


def dataset_dir(metadata: str | Path, dataset: str) -> Path:
    """`<metadata>/<dataset>`, or a ConfigError listing the datasets it has."""
    root = Path(metadata).expanduser()
    if not root.is_dir():
        raise ConfigError(f"--metadata {metadata}: no such folder (EmoBox's data/ dir)")
    folder = root / dataset
    if not (folder / f"{dataset}.jsonl").is_file():
        have = sorted(d.name for d in root.iterdir() if (d / f"{d.name}.jsonl").is_file())
        raise ConfigError(
            f"EmoBox metadata {root} has no dataset {dataset!r} ({dataset}/{dataset}.jsonl); "
            f"it has: {have}"
        )
    return folder


def label_map(folder: Path) -> dict[str, str]:
    """The dataset's emotion name (lower-cased) -> display name."""
    for name in LABEL_MAPS:
        if (folder / name).is_file():
            return {k.lower(): v for k, v in json.loads((folder / name).read_text()).items()}
    raise ConfigError(f"{folder} has no label map ({' or '.join(LABEL_MAPS)})")


def tags(line: str) -> dict[str, str]:
    """The `<k=v,...>` tags of an stm line (values may hold spaces)."""
    m = _TAGS.search(line)
    if not m:
        return {}
    pairs = (p.partition("=") for p in m.group(1).split(","))
    return {k.strip(): v.strip() for k, sep, v in pairs if sep}


def speakers(folder: Path) -> dict[str, str]:
    """key -> speaker, from the stm file's tags ({} without one)."""
    path = folder / STM
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        t = tags(line)
        key = t.get("id") or line.split(" ", 1)[0]
        out[key] = t.get("spk", "")
    return out


def emotion_of(name: str, lmap: dict[str, str], user_map: dict[str, str]) -> str | None:
    """The canonical emotion of a row's `emo` (None: not in the label map): the
    user's map, else the label map's display name, else the name itself, through
    the usual spellings; `other` when none of them is an emotion."""
    key = name.strip().lower()
    if key not in lmap:
        return None
    if key in user_map:
        return user_map[key]
    for candidate in (key, lmap[key]):
        if (c := external.canonical(candidate, {})) is not None:
            return c
    return labels.OTHER


def gender_of(speaker: str) -> str:
    """ "f" / "m" from a speaker id EmoBox prefixes with its sex ("female_08"), else "u"."""
    g = speaker.split("_")[0].lower()
    return {"female": "f", "f": "f", "male": "m", "m": "m"}.get(g, "u")


def parse(root: Path, corpus: str, metadata: str, dataset: str, user_map: dict) -> Scan:
    """The utterances `<dataset>.jsonl` lists, their audio under `root`."""
    folder = dataset_dir(metadata, dataset)
    lmap, spk = label_map(folder), speakers(folder)
    scan, seen = Scan(), set()
    for n, line in enumerate((folder / f"{dataset}.jsonl").read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        key, wav = row.get("key", ""), row.get("wav", "")
        path = (root / wav) if wav else root / f"<line {n}: no wav>"
        if not key:
            scan.skip(path, f"line {n} of {dataset}.jsonl has no key")
            continue
        if key in seen:
            scan.skip(path, f"duplicate key {key!r} (line {n}; the first is kept)")
            continue
        seen.add(key)
        if not path.is_file():
            scan.skip(path, f"no such file ({key}, line {n})")
            continue
        emotion = emotion_of(str(row.get("emo", "")), lmap, user_map)
        if emotion is None:
            scan.skip(
                path, f"unknown emotion code {row.get('emo')!r} ({key}: not in the label map)"
            )
            continue
        speaker = spk.get(key, key) if spk else key
        if not speaker.strip():
            scan.skip(path, f"empty speaker ({key})")
            continue
        start, end = float(row.get("start_time", 0.0)), float(row.get("end_time", 0.0))
        if "start_time" in row and not 0 <= start < end:
            scan.skip(path, f"segment {start}-{end} s is empty or negative ({key})")
            continue
        scan.utterances.append(
            Utterance(
                str(path), corpus, key, emotion, speaker, gender_of(speaker), "",
                start=start, end=end, channel=int(row.get("channel", 1) or 1),
            )
        )  # fmt: skip
    return scan


def folds(metadata: str, dataset: str) -> dict[int, dict[str, Path]]:
    """k -> {"train": path, "test": path} of the dataset's folds."""
    found: dict[int, dict[str, Path]] = {}
    for path in sorted(dataset_dir(metadata, dataset).glob("fold_*/*.jsonl")):
        m = _FOLD.match(path.name)
        if m and m["ds"] == dataset:
            found.setdefault(int(m["k"]), {}).setdefault(m["half"], path)
    return {k: v for k, v in sorted(found.items()) if set(v) == {"train", "test"}}


def fold_keys(metadata: str, dataset: str, fold: int) -> tuple[set[str], set[str]]:
    """(train keys, test keys) of EmoBox's fold `fold`; ConfigError naming the folds."""
    have = folds(metadata, dataset)
    if fold not in have:
        raise ConfigError(
            f"data.fold={fold}: EmoBox's {dataset} has folds {sorted(have)} "
            f"(fold_<k>/{dataset}_{{train,test}}_fold_<k>.jsonl)"
        )
    read = lambda p: {json.loads(x)["key"] for x in p.read_text().splitlines() if x.strip()}  # noqa: E731
    return read(have[fold]["train"]), read(have[fold]["test"])
