"""A task: (source corpus, target corpus, label space, classes, protocol), and its
checks.

Label spaces: `categorical` (classes = emotions; by default every emotion both
corpora have) and the binary `arousal` and `valence` (classes = the two halves
of `labels.BINARY`; every utterance whose emotion maps is used, from both
corpora). Needs no data and no TensorFlow: a task is checked before any work.
"""

import dataclasses

from jaxser.data import corpora, labels

NORMALIZATIONS = ("utterance", "corpus", "none")
PROTOCOLS = ("transductive", "held_out")


@dataclasses.dataclass(frozen=True)
class Task:
    source: str
    target: str
    classes: tuple[str, ...] = ()  # categorical only; empty: the emotions both corpora share
    protocol: str = "transductive"  # or "held_out": target speakers split adapt / test
    label_space: str = "categorical"  # or "arousal", "valence"
    # binary spaces: halves that replace labels.BINARY's, as (class, emotions) pairs
    overrides: tuple[tuple[str, tuple[str, ...]], ...] = ()


def mapping(task: Task) -> dict[str, tuple[str, ...]]:
    """Class -> the emotions it holds, classes sorted. Categorical: the given classes
    (each in both corpora) or every emotion both corpora share, each its own
    class. Raises on an unknown corpus, protocol, label space or emotion, listing
    the known ones."""
    if task.protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {task.protocol!r}; known: {list(PROTOCOLS)}")
    if task.label_space not in labels.LABEL_SPACES:
        raise ValueError(
            f"unknown label space {task.label_space!r}; known: {list(labels.LABEL_SPACES)}"
        )
    src_spec, tgt_spec = corpora.get(task.source), corpora.get(task.target)
    if task.label_space != "categorical":
        if task.classes:
            raise ValueError(
                f"classes {list(task.classes)} apply to the categorical label space only; "
                f"the {task.label_space} classes are {sorted(labels.BINARY[task.label_space])}"
            )
        return labels.binary_mapping(task.label_space, dict(task.overrides))
    shared = labels.shared_classes(task.source, src_spec.emotions, task.target, tgt_spec.emotions)
    if not task.classes:
        return {c: (c,) for c in shared}
    chosen = labels.validate_classes(task.classes)
    missing = sorted(set(chosen) - set(shared))
    if missing:
        raise ValueError(
            f"classes {missing} are not shared by {task.source} "
            f"{list(src_spec.emotions)} and {task.target} {list(tgt_spec.emotions)}"
        )
    return {c: (c,) for c in chosen}
