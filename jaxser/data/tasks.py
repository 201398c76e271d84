"""A task: (source corpus, target corpus, label space, classes, protocol), and its
checks.

Label spaces: `categorical` (classes = emotions; by default every emotion both
corpora have) and the binary `arousal` and `valence` (classes = the two halves
of `labels.BINARY`; every utterance whose emotion maps is used, from both
corpora). Needs no data and no TensorFlow: a task is checked before any work.
"""

import dataclasses

import numpy as np

from jaxser import config as config_lib
from jaxser.config import ConfigError
from jaxser.data import corpora, labels

NORMALIZATIONS = ("utterance", "corpus", "speaker", "none")
PROTOCOLS = ("transductive", "held_out", "loso", "emobox_fold", "db_split")
# the protocols that train and test on one corpus (target = source): its
# speaker folds, EmoBox's folds of an emobox:<ds> corpus, the train/test splits
# of an audformat:<name> database
SINGLE_CORPUS = ("loso", "emobox_fold", "db_split")
MAX_FOLDS = 10  # loso on a corpus of more speakers: speakers grouped into this many folds
# corpora whose folds are recording sessions (speaker id -> session)
SESSIONS = {"iemocap": lambda s: s[:5], "msp_improv": lambda s: s[1:]}


@dataclasses.dataclass(frozen=True)
class Task:
    source: str
    target: str
    classes: tuple[str, ...] = ()  # categorical only; empty: the emotions both corpora share
    # "held_out": target speakers split adapt / test; "loso": one corpus
    # (target = source), trained on every fold but `fold`, tested on `fold`
    protocol: str = "transductive"
    label_space: str = "categorical"  # or "arousal", "valence"
    # binary spaces: halves that replace labels.BINARY's, as (class, emotions) pairs
    overrides: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fold: int = 0  # loso, emobox_fold (EmoBox's own folds of an emobox:<ds> corpus)
    # emotions held out of training: their target utterances form the OOD test split
    ood: tuple[str, ...] = ()
    data_dir: str = ""  # where external corpora's cards are ("": the default data dir)
    # share of the source's utterances held out of training, whole speakers
    # (`validation_speakers`): the source validation split of model selection
    source_val: float = 0.0


def corpora_of(source: str) -> tuple[str, ...]:
    """The corpora of a source: "synth_emodb+synth_casia" -> both (several corpora
    as one source; each utterance keeps its corpus in its speaker and utt ids)."""
    return tuple(source.split("+"))


def emotions_of(name: str, data_dir=None) -> tuple[str, ...]:
    """The emotions of a corpus, or of the union of several ("a+b")."""
    return tuple(sorted({e for n in corpora_of(name) for e in corpora.get(n, data_dir).emotions}))


def loso_folds(corpus: str, speakers) -> list[tuple[str, ...]]:
    """The folds of the single-corpus protocol, speaker-independent by
    construction (each speaker in exactly one fold): IEMOCAP and MSP-IMPROV by
    recording session (Ses01..Ses05; F01/M01 -> session 01); another corpus one
    fold per speaker, or, with more than MAX_FOLDS speakers, the sorted speakers
    dealt round-robin into MAX_FOLDS folds (fold k = speakers k, k + 10, ...)."""
    speakers = sorted(set(speakers))
    if corpus in SESSIONS:
        session = SESSIONS[corpus]
        return [
            tuple(s for s in speakers if session(s) == k)
            for k in sorted({session(s) for s in speakers})
        ]
    if len(speakers) <= MAX_FOLDS:
        return [(s,) for s in speakers]
    return [tuple(speakers[k::MAX_FOLDS]) for k in range(MAX_FOLDS)]


def mapping(task: Task) -> dict[str, tuple[str, ...]]:
    """Class -> the emotions it holds, classes sorted. Categorical: the given classes
    (each in both corpora) or every emotion both corpora share, each its own
    class. Raises on an unknown corpus, protocol, label space or emotion, listing
    the known ones."""
    if task.protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {task.protocol!r}; known: {list(PROTOCOLS)}")
    if task.label_space not in labels.LABEL_SPACES:
        raise ConfigError(
            f"unknown label space {task.label_space!r}; known: {list(labels.LABEL_SPACES)}"
        )
    data_dir = task.data_dir or None
    src_emotions, tgt_emotions = (
        emotions_of(task.source, data_dir),
        emotions_of(task.target, data_dir),
    )
    if task.label_space != "categorical":
        if task.ood:
            raise ConfigError(
                f"OOD classes {list(task.ood)} apply to the categorical label space only"
            )
        if task.classes:
            raise ConfigError(
                f"classes {list(task.classes)} apply to the categorical label space only; "
                f"the {task.label_space} classes are {sorted(labels.BINARY[task.label_space])}"
            )
        return labels.binary_mapping(task.label_space, dict(task.overrides))
    shared = labels.shared_classes(task.source, src_emotions, task.target, tgt_emotions)
    classes = shared
    if task.classes:
        classes = labels.validate_classes(task.classes)
        missing = sorted(set(classes) - set(shared))
        if missing:
            raise ConfigError(
                f"classes {missing} are not shared by {task.source} "
                f"{list(src_emotions)} and {task.target} {list(tgt_emotions)}"
            )
    if task.ood:
        classes = _without_ood(task, classes, tgt_emotions)
    return {c: (c,) for c in classes}


def _without_ood(task: Task, classes, target_emotions) -> list[str]:
    """`classes` without the OOD emotions, each of which the target must have; at
    least 2 in-distribution classes must remain."""
    known = sorted(set(target_emotions) - {labels.OTHER})
    unknown = sorted(set(task.ood) - set(known))
    if unknown:
        raise ConfigError(f"OOD classes {unknown} are not emotions of {task.target}: {known}")
    if task.classes and (overlap := sorted(set(classes) & set(task.ood))):
        raise ConfigError(f"{overlap} are both training classes and OOD classes")
    kept = [c for c in classes if c not in task.ood]
    if len(kept) < 2:
        raise ConfigError(
            f"holding out {list(task.ood)} leaves {kept}: fewer than 2 in-distribution "
            f"classes; {task.target}'s emotions: {known}"
        )
    return kept


def from_config(config) -> Task:
    """The task of `config.data`: corpora, label space, classes, protocol."""
    d = config.data
    overrides = ()
    if d.label_space in labels.BINARY:
        halves = [
            (h, config_lib.names(d[f"{d.label_space}_{h}"])) for h in labels.BINARY[d.label_space]
        ]
        overrides = tuple((h, e) for h, e in halves if e)
    classes = config_lib.names(d.classes)
    target = d.source if d.protocol in SINGLE_CORPUS else d.target
    ood = config_lib.names(d.ood_classes)
    return Task(
        d.source,
        target,
        classes,
        d.protocol,
        d.label_space,
        overrides,
        d.fold,
        ood,
        d.data_dir,
        float(d.source_val),
    )


def validation_speakers(speakers, share: float) -> tuple[str, ...]:
    """The source speakers held out for validation: whole speakers, drawn in a
    fixed order (a permutation of the sorted ids by a seed of its own, the same
    for every run, method and draw of a corpus), until their utterances reach
    `share` of `speakers` (one id per utterance); at least one, never all."""
    ids, counts = np.unique(np.asarray(speakers), return_counts=True)
    if len(ids) < 2:
        raise ConfigError(
            f"data.source_val={share}: the source has {len(ids)} speaker(s); holding out "
            "whole speakers needs 2 or more"
        )
    order = np.random.default_rng(0).permutation(len(ids))
    held, total = [], 0
    for i in order[:-1]:
        if held and total >= share * counts.sum():
            break
        held.append(str(ids[i]))
        total += counts[i]
    return tuple(sorted(held))
