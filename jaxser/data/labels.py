"""The canonical emotion vocabulary, the binary label spaces, and a task's classes.

Every corpus adapter maps its own codes to these names (its module says how). In
the `categorical` label space a task's classes are a sorted list of emotions; in
the binary spaces (`arousal`, `valence`) they are the two halves of `BINARY`.
Class index = position in the sorted class list.
"""

from collections.abc import Iterable, Mapping, Sequence

from jaxser.config import ConfigError

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

LABEL_SPACES = ("categorical", "arousal", "valence")
# [decision] The binary label spaces: each emotion's half, after Schuller et al.
# 2010's cross-corpus binary mapping (the convention of the cross-corpus SER
# literature; Emo-DNA's own table, after the Geneva Emotion Wheel, is not public).
# A config overrides a half with `data.<space>_<half>` ("" keeps this table).
BINARY: dict[str, dict[str, tuple[str, ...]]] = {
    "arousal": {
        "high": ("angry", "fear", "happy", "surprise"),
        "low": ("boredom", "calm", "disgust", "neutral", "sad"),
    },
    "valence": {
        "negative": ("angry", "boredom", "disgust", "fear", "sad"),
        "positive": ("calm", "happy", "neutral", "surprise"),
    },
}


def binary_mapping(
    space: str, overrides: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Class -> its emotions in a binary label space: `BINARY[space]` with the halves
    `overrides` names replaced. Raises on an unknown space, class or emotion, an
    emotion named twice or in both halves, or an empty half."""
    if space not in BINARY:
        raise ConfigError(f"no binary label space {space!r}; binary spaces: {sorted(BINARY)}")
    table = dict(BINARY[space])
    for half, emotions in (overrides or {}).items():
        if half not in table:
            raise ConfigError(f"{space} has the classes {sorted(table)}, not {half!r}")
        emotions = tuple(emotions)
        unknown = sorted(set(emotions) - set(EMOTIONS))
        if unknown:
            raise ConfigError(
                f"{space} {half}: unknown emotion(s) {unknown}; known emotions: {list(EMOTIONS)}"
            )
        twice = sorted({e for e in emotions if emotions.count(e) > 1})
        if twice:
            raise ConfigError(f"{space} {half} names {twice} twice")
        table[half] = tuple(sorted(emotions))
    (a, ea), (b, eb) = sorted(table.items())
    both = sorted(set(ea) & set(eb))
    if both:
        raise ConfigError(f"{space}: {both} are in both halves ({a} and {b})")
    for half, emotions in table.items():
        if not emotions:
            raise ConfigError(f"{space} {half} holds no emotion")
    return dict(sorted(table.items()))


def validate_classes(classes: Iterable[str]) -> tuple[str, ...]:
    """Returns `classes` sorted and de-duplicated, or raises on unknown names."""
    classes = tuple(classes)
    unknown = sorted(set(classes) - set(EMOTIONS))
    if unknown:
        raise ConfigError(f"unknown emotion(s) {unknown}; known emotions: {list(EMOTIONS)}")
    if len(set(classes)) != len(classes):
        raise ConfigError(f"duplicate classes in {list(classes)}")
    if len(classes) < 2:
        raise ConfigError(f"a task needs at least 2 classes, got {list(classes)}")
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
        raise ConfigError(
            f"{source} and {target} share {len(shared)} class(es) {list(shared)}; a task needs "
            f"at least 2. {source}: {sorted(a)}; {target}: {sorted(b)}"
        )
    return shared
