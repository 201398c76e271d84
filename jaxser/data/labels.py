"""The canonical emotion vocabulary and the class list of a task.

Every corpus adapter maps its own codes to these names (its module says how). A task's
classes are a sorted list of them; class index = position in that list.
"""

from collections.abc import Iterable, Sequence

EMOTIONS: tuple[str, ...] = (
    "angry",
    "boredom",
    "calm",
    "disgust",
    "fear",
    "happy",
    "neutral",
    "sad",
    "surprise",
)
# Labels a corpus has but no task can use (IEMOCAP `fru`, MSP-IMPROV `O`, ...).
OTHER = "other"


def validate_classes(classes: Iterable[str]) -> tuple[str, ...]:
    """Returns `classes` sorted and de-duplicated, or raises on unknown names."""
    classes = tuple(classes)
    unknown = sorted(set(classes) - set(EMOTIONS))
    if unknown:
        raise ValueError(f"unknown emotion(s) {unknown}; known emotions: {list(EMOTIONS)}")
    if len(set(classes)) != len(classes):
        raise ValueError(f"duplicate classes in {list(classes)}")
    if len(classes) < 2:
        raise ValueError(f"a task needs at least 2 classes, got {list(classes)}")
    return tuple(sorted(classes))


def shared_classes(
    source: str, source_emotions: Iterable[str], target: str, target_emotions: Iterable[str]
) -> tuple[str, ...]:
    """The emotions both corpora have (the default classes of a task), sorted.

    Raises if the pair shares fewer than 2 classes, listing both class sets.
    """
    a = set(source_emotions) - {OTHER}
    b = set(target_emotions) - {OTHER}
    shared = tuple(sorted(a & b))
    if len(shared) < 2:
        raise ValueError(
            f"{source} and {target} share {len(shared)} class(es) {list(shared)}; a task needs "
            f"at least 2. {source}: {sorted(a)}; {target}: {sorted(b)}"
        )
    return shared


def class_index(classes: Sequence[str]) -> dict[str, int]:
    """Maps each class name to its index (its position in the sorted class list)."""
    return {name: i for i, name in enumerate(classes)}
