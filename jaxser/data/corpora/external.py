"""Corpora jaxser has no adapter for, read from a description of them: EmoBox's
metadata (`emobox:<dataset>`), a CSV manifest (`csv:<name>`) or an audformat
database (`audformat:<name>`).

Such a corpus is named by its route and a name, and described by a *corpus
card*, `<data dir>/<name>/corpus.json`, that prepare writes from its command
line: where the audio is, which metadata or manifest lists it, which emotion
names map to which canonical ones, its emotions. `corpora.get(name, data_dir)`
builds the corpus from its card, so a run, a sweep or predict later needs only
the name. A card is data (JSON): reading one never runs code.

Emotion names are mapped to jaxser's canonical ones (`labels.EMOTIONS`) by
`canonical`: the usual spellings ("anger", "Angry", "happiness", "joy", ...)
and the user's own `--map` entries; a name that maps to nothing is `other`
(kept in the store, never a task class) for EmoBox, whose label map lists
every name, and skipped with the reason for a CSV manifest, where it is more
likely a typo.
"""

import json
import re
from pathlib import Path

from jaxser.config import ConfigError
from jaxser.data import labels, paths

ROUTES = ("emobox", "csv", "audformat")
CARD = "corpus.json"
# spellings -> canonical emotion (lower-cased, before the user's --map)
SYNONYMS = {
    "anger": "angry", "angry": "angry", "ang": "angry", "mad": "angry",
    "boredom": "boredom", "bored": "boredom", "boring": "boredom", "boredem": "boredom",
    "calm": "calm", "calmness": "calm",
    "disgust": "disgust", "disgusted": "disgust", "dis": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear", "fea": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy", "hap": "happy", "excited": "happy",
    "neutral": "neutral", "neu": "neutral",
    "sad": "sad", "sadness": "sad",
    "surprise": "surprise", "surprised": "surprise", "sur": "surprise", "ps": "surprise",
}  # fmt: skip


def route(name: str) -> tuple[str, str] | None:
    """("emobox", "tess") for "emobox:tess"; None for a built-in corpus name."""
    head, sep, tail = name.partition(":")
    if not sep:
        return None
    if head not in ROUTES:
        raise ConfigError(f"unknown corpus route {head!r} in {name!r}; known: {list(ROUTES)}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", tail):
        raise ConfigError(
            f"corpus name {tail!r} in {name!r}: letters, digits, '_', '.', '-' (a folder name)"
        )
    return head, tail


def parse_map(text: str) -> dict[str, str]:
    """ "anger=angry,joy=happy" -> {"anger": "angry", "joy": "happy"}; each target a
    canonical emotion or "other"."""
    out = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        value = value.strip().lower()
        if not sep or not key.strip():
            raise ConfigError(f"--map entry {item!r} is not of the form name=emotion")
        if value not in (*labels.EMOTIONS, labels.OTHER):
            raise ConfigError(
                f"--map {item!r}: {value!r} is not an emotion; known: "
                f"{[*labels.EMOTIONS, labels.OTHER]}"
            )
        out[key.strip().lower()] = value
    return out


def canonical(name: str, user_map: dict[str, str]) -> str | None:
    """The canonical emotion of a corpus's emotion name (the user's map first),
    None when neither knows it."""
    key = name.strip().lower()
    return user_map.get(key) or SYNONYMS.get(key)


def prepare_command(name: str, data_dir=None) -> str:
    """The prepare command of an external corpus: its card's own (the card in
    `data_dir`, if prepare wrote one), else a template."""
    kind = route(name)[0]
    path = card_path(name, data_dir)
    card = json.loads(path.read_text()) if path.is_file() else None
    if card and kind == "emobox":
        how = f"--path {card['path']} --metadata {card['metadata']}"
    elif card and kind == "csv":
        how = f"--manifest {card['manifest']} --path {card['path']}"
    elif card:
        how = f"--path {card['path']}"
    else:
        how = {
            "emobox": "--path <folder holding downloads/> --metadata <EmoBox's data/ dir>",
            "csv": "--manifest FILE.csv --path ROOT",
            "audformat": "--path DB_ROOT",
        }[kind]
    if card and card.get("map"):
        how += " --map " + ",".join(f"{k}={v}" for k, v in card["map"].items())
    dd = f" --data_dir {data_dir}" if data_dir else ""
    return f"python -m jaxser.prepare --corpus {name} {how}{dd}"


def card_path(name: str, data_dir=None) -> Path:
    return paths.resolve_data_dir(data_dir) / paths.corpus_folder(name) / CARD


def write_card(name: str, data_dir, card: dict) -> Path:
    from jaxser import files

    path = card_path(name, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_json(path, {"name": name, **card})
    return path


def read_card(name: str, data_dir=None) -> dict:
    """The card prepare wrote for `name`; ConfigError naming the prepare command."""
    path = card_path(name, data_dir)
    if not path.is_file():
        raise ConfigError(
            f"corpus {name!r} is not prepared in {path.parent}; run: "
            f"{prepare_command(name, data_dir)}"
        )
    card = json.loads(path.read_text())
    if not isinstance(card, dict) or card.get("name") != name:
        raise ConfigError(f"{path} is not the corpus card of {name!r}")
    return card
