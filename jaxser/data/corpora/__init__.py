"""Corpus adapters, by name: one module per corpus, plus the synthetic corpora,
plus the corpora described by EmoBox metadata, a CSV manifest or an audformat
database (`external`).

`get(name)` returns the `Corpus` of a name; an unknown name lists the known ones.
"""

import functools

from jaxser.config import ConfigError
from jaxser.data.corpora import (
    audformat_db,
    casia,
    cremad,
    csv_manifest,
    emobox,
    emodb,
    emovo,
    enterface,
    external,
    iemocap,
    msp_improv,
    ravdess,
    savee,
    synthetic,
)
from jaxser.data.corpora.base import Corpus, LayoutError, Scan, Skipped, Utterance

REAL: dict[str, Corpus] = {
    m.CORPUS.name: m.CORPUS
    for m in (emodb, casia, enterface, emovo, iemocap, msp_improv, ravdess, cremad, savee)
}
SYNTHETIC: dict[str, Corpus] = {name: synthetic.corpus(name) for name in synthetic.RECIPES}
CORPORA: dict[str, Corpus] = {**REAL, **SYNTHETIC}


def get(name: str, data_dir=None) -> Corpus:
    """The corpus of a name: a built-in adapter, or (`emobox:<dataset>`,
    `csv:<name>`) the corpus its card in `data_dir` describes."""
    if name in CORPORA:
        return CORPORA[name]
    if external.route(name) is None:
        raise ConfigError(
            f"unknown corpus {name!r}; known corpora: {sorted(CORPORA)}, or "
            f"{' / '.join(r + ':<name>' for r in external.ROUTES)} (README 'Corpora')"
        )
    return from_card(external.read_card(name, data_dir))


def from_card(card: dict) -> Corpus:
    """The Corpus a corpus card describes: its parse reads the metadata or manifest
    the card names."""
    kind = external.route(card["name"])[0]
    if kind == "emobox":
        parse = functools.partial(
            emobox.parse, metadata=card["metadata"], dataset=card["dataset"], user_map=card["map"]
        )
        layout = f"EmoBox metadata {card['metadata']}/{card['dataset']}, audio under --path"
    elif kind == "csv":
        parse = functools.partial(
            csv_manifest.parse, manifest=card["manifest"], user_map=card["map"]
        )
        layout = f"the CSV manifest {card['manifest']} (file,emotion,speaker[,gender,language])"
    else:
        parse = functools.partial(audformat_db.parse, user_map=card["map"])
        layout = "an audformat database (db.yaml and its tables) at --path"
    return Corpus(card["name"], tuple(card["emotions"]), card["sample_rate"], layout, parse)


__all__ = [
    "CORPORA",
    "REAL",
    "SYNTHETIC",
    "Corpus",
    "LayoutError",
    "Scan",
    "Skipped",
    "Utterance",
    "get",
]
