"""A task: (source corpus, target corpus, classes, protocol), and its checks.

Needs no data and no TensorFlow: a task is checked before any work.
"""

import dataclasses

from jaxser.data import corpora, labels

NORMALIZATIONS = ("utterance", "corpus", "none")
PROTOCOLS = ("transductive", "held_out")


@dataclasses.dataclass(frozen=True)
class Task:
    source: str
    target: str
    classes: tuple[str, ...] = ()  # empty: the classes both corpora share
    protocol: str = "transductive"  # or "held_out": target speakers split adapt / test


def classes(task: Task) -> tuple[str, ...]:
    """The task's classes, sorted: the given ones (each in both corpora) or, if none
    are given, every emotion both corpora share. Raises on an unknown corpus,
    protocol or emotion, listing the known ones."""
    if task.protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {task.protocol!r}; known: {list(PROTOCOLS)}")
    src_spec, tgt_spec = corpora.get(task.source), corpora.get(task.target)
    shared = labels.shared_classes(task.source, src_spec.emotions, task.target, tgt_spec.emotions)
    if not task.classes:
        return shared
    chosen = labels.validate_classes(task.classes)
    missing = sorted(set(chosen) - set(shared))
    if missing:
        raise ValueError(
            f"classes {missing} are not shared by {task.source} "
            f"{list(src_spec.emotions)} and {task.target} {list(tgt_spec.emotions)}"
        )
    return chosen
