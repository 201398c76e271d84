"""Corpus adapters, by name: one module per corpus, plus the synthetic corpora.

`get(name)` returns the `Corpus` of a name; an unknown name lists the known ones.
"""

from jaxser.config import ConfigError
from jaxser.data.corpora import (
    casia,
    cremad,
    emodb,
    emovo,
    enterface,
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


def get(name: str) -> Corpus:
    if name not in CORPORA:
        raise ConfigError(f"unknown corpus {name!r}; known corpora: {sorted(CORPORA)}")
    return CORPORA[name]


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
