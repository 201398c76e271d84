"""Paired source/target batches for a task, as a tf.data stream.

Training batches are the pytree

    {"source": {"x": f32[B,T,F], "mask": bool[B,T], "label": i32[B],
                "speaker": i32[B], "gender": i32[B], "index": i32[B]},
     "target": {"x": f32[B,T,F], "mask": bool[B,T], "index": i32[B]}}

with **no target label**: target labels exist only in evaluation batches.
Crops are random fixed-length windows (shorter utterances are zero-padded and
masked), so shapes are static. Each element of the tf.data stream is a whole
batch made by a few vectorised gathers from the corpus held in memory; every
random choice is a stateless function of (seed, step), so the stream is the same
on every run. Multi-host: every process draws the same global batch indices and
crops only its own slice (rows [p*B/P, (p+1)*B/P)), so P processes together see
exactly the batches one process would.

Evaluation batches cover every utterance whole, in windows of the training crop
length (the last window is shifted back to end at the utterance end), padded to
a full batch with `valid = False` rows: an evaluator averages the windows of
each `index`, weighted by their `mask` frames.
"""

import dataclasses
from collections.abc import Iterator

import numpy as np

from jaxser import host_memory
from jaxser.config import ConfigError
from jaxser.data import corpora, quiet, store, tasks
from jaxser.data.corpora import emobox, external
from jaxser.data.features import FeatureConfig
from jaxser.data.tasks import NORMALIZATIONS, Task

tf = quiet.tensorflow()

GENDERS = ("f", "m", "u")
PREFETCH = 2  # batches made ahead of the one consumed


@dataclasses.dataclass(frozen=True)
class Split:
    """Utterances of one corpus restricted to a task's classes, features normalised."""

    corpus: str
    frames: np.ndarray  # [total_frames + 1, F]; last row = zeros (padding)
    offsets: np.ndarray  # i64[N]
    lengths: np.ndarray  # i64[N]
    label: np.ndarray  # i32[N], index into the task's classes
    # str[N]: each utterance's emotion (in arousal and valence a class holds several)
    emotion: np.ndarray
    speaker: np.ndarray  # i32[N], index into `speakers`
    gender: np.ndarray  # i32[N], index into GENDERS
    utt_id: np.ndarray  # str[N]
    speakers: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.lengths)


@dataclasses.dataclass(frozen=True)
class TaskData:
    task: Task
    mapping: dict  # class -> the emotions it holds, classes sorted
    source: Split
    target_adapt: Split  # unlabelled target the methods see in training
    target_test: Split  # labelled target for evaluation only
    stats: dict = dataclasses.field(default_factory=dict)  # corpus -> its feature mean, std
    # target utterances of the OOD emotions (labels -1), tested beside target_test
    target_ood: Split | None = None
    # what the protocol reports beside the scores (results.json), e.g. emobox_fold's
    # speakers found on both sides of the fold
    notes: dict = dataclasses.field(default_factory=dict)
    # source speakers held out of training (`data.source_val`), labelled: model selection
    source_val: Split | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names; class index = position."""
        return tuple(self.mapping)


def load_corpus(
    name: str, data_dir=None, features: FeatureConfig = FeatureConfig(), workers: int | None = None
) -> store.CorpusData:
    """A prepared corpus; synthetic corpora are prepared on demand, real ones must be."""
    if store.read_manifest(name, data_dir, features) is None:
        if not corpora.get(name, data_dir).synthetic:
            raise FileNotFoundError(
                f"corpus {name!r} is not prepared (no manifest in "
                f"{store.store_dir(name, data_dir, features)}). Run:\n  "
                f"{store.prepare_command(name, data_dir)}"
            )
        store.prepare(name, data_dir=data_dir, config=features, workers=workers)
    return store.load(name, data_dir, features)


def load_normalized(
    name: str, data_dir, features: FeatureConfig, how: str
) -> tuple[store.CorpusData, np.ndarray]:
    """A corpus (or the union "a+b+c" of several, `merge`) and its normalised frames."""
    names = tasks.corpora_of(name)
    parts = [load_corpus(n, data_dir, features) for n in names]
    if len(parts) == 1:
        return parts[0], normalize(parts[0], how)
    return merge(parts, [normalize(p, how) for p in parts])


def merge(
    parts: list[store.CorpusData], frames: list[np.ndarray]
) -> tuple[store.CorpusData, np.ndarray]:
    """Several corpora as one source, each normalised on its own (`frames`): their
    utterances side by side, speaker and utt ids prefixed with their corpus
    ("synth_emodb/03"), the pooled feature statistics as the union's."""
    name = "+".join(p.name for p in parts)
    lengths = np.concatenate([p.lengths for p in parts])
    pad = np.zeros((1, parts[0].frames.shape[1]), np.float32)
    prefix = lambda p, ids: np.array([f"{p.name}/{i}" for i in ids])  # noqa: E731
    n = np.array([p.manifest["num_frames"] for p in parts], np.float64)[:, None]
    mean = np.array([p.manifest["stats"]["mean"] for p in parts])
    var = np.array([p.manifest["stats"]["std"] for p in parts]) ** 2
    pooled = (n * mean).sum(0) / n.sum()
    pooled_var = (n * (var + mean**2)).sum(0) / n.sum() - pooled**2
    manifest = {
        "corpus": name,
        "corpora": [p.name for p in parts],
        "num_frames": int(n.sum()),
        "stats": {
            "mean": pooled.round(6).tolist(),
            "std": np.sqrt(np.maximum(pooled_var, 1e-12)).round(6).tolist(),
        },  # fmt: skip
    }
    data = store.CorpusData(
        name,
        np.concatenate([p.frames[:-1] for p in parts] + [pad]),
        np.concatenate([[0], np.cumsum(lengths)[:-1]]),
        lengths,
        np.concatenate([p.emotion for p in parts]),
        np.concatenate([prefix(p, p.speaker) for p in parts]),
        np.concatenate([p.gender for p in parts]),
        np.concatenate([prefix(p, p.utt_id) for p in parts]),
        manifest,
    )
    return data, np.concatenate([f[:-1] for f in frames] + [pad])


def normalize(data: store.CorpusData, how: str) -> np.ndarray:
    """Frames normalised per utterance (each bin over time), per corpus, per
    speaker, or not at all."""
    stats = data.manifest["stats"]
    return normalize_frames(data.frames, data.offsets, data.lengths, how, stats, data.speaker)


def normalize_frames(
    frames: np.ndarray,
    offsets: np.ndarray,
    lengths: np.ndarray,
    how: str,
    stats: dict | None,
    speakers: np.ndarray | None = None,
) -> np.ndarray:
    """A copy of concatenated utterance frames (last row: padding, left as is)
    normalised per corpus with `stats` ({"mean", "std"} per bin), per utterance,
    per speaker (each bin over all frames of the speaker's utterances;
    `speakers`: one id per utterance, None: all one speaker), or not at all.

    Per speaker removes each speaker's baseline (pitch, level, timbre) and keeps
    the variation between their utterances, which carries the emotion; it
    reads no labels, so a test speaker's own unlabelled utterances give its
    statistics (as in speaker-independent SER practice)."""
    if how not in NORMALIZATIONS:
        raise ValueError(f"unknown normalisation {how!r}; known: {list(NORMALIZATIONS)}")
    frames = frames.copy()
    if how == "corpus":
        mean = np.asarray(stats["mean"], np.float32)
        std = np.asarray(stats["std"], np.float32)
        frames[:-1] -= mean  # in place: no temporaries of the corpus's size
        frames[:-1] /= std
    elif how == "utterance":
        for start, n in zip(offsets, lengths, strict=True):
            x = frames[start : start + n]
            frames[start : start + n] = (x - x.mean(0)) / (x.std(0) + 1e-5)
    elif how == "speaker":
        speakers = np.zeros(len(lengths), int) if speakers is None else np.asarray(speakers)
        for s in np.unique(speakers):
            idx = np.flatnonzero(speakers == s)
            rows = np.concatenate([np.arange(offsets[i], offsets[i] + lengths[i]) for i in idx])
            x = frames[rows].astype(np.float64)
            frames[rows] = (x - x.mean(0)) / (x.std(0) + 1e-5)
    return frames


def _split(data: store.CorpusData, frames: np.ndarray, label_of: dict, keep: np.ndarray) -> Split:
    """The kept utterances, gathered into a compact frames array; `label_of`:
    emotion -> class index."""
    idx = np.flatnonzero(keep)
    lengths = data.lengths[idx]
    rows = np.concatenate(
        [np.arange(data.offsets[i], data.offsets[i] + data.lengths[i]) for i in idx]
        + [[len(frames) - 1]]
    )
    speakers = tuple(sorted(set(data.speaker[idx])))
    return Split(
        corpus=data.name,
        frames=np.ascontiguousarray(frames[rows]),
        offsets=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
        lengths=lengths.astype(np.int64),
        label=np.array([label_of[e] for e in data.emotion[idx]], np.int32),
        emotion=data.emotion[idx],
        speaker=np.array([speakers.index(s) for s in data.speaker[idx]], np.int32),
        gender=np.array([GENDERS.index(g) for g in data.gender[idx]], np.int32),
        utt_id=data.utt_id[idx],
        speakers=speakers,
    )


def _check_counts(task: Task, classes, label_of, src, tgt) -> None:
    """Every class has utterances on both sides, or a ValueError with the counts."""
    counts = {}
    for name, corpus in ((task.source, src), (task.target, tgt)):
        per = np.bincount(
            [label_of[e] for e in corpus.emotion if e in label_of], minlength=len(classes)
        )
        counts[name] = dict(zip(classes, per.tolist(), strict=True))
    if any(n == 0 for side in counts.values() for n in side.values()):
        raise ConfigError(
            f"a class of the {task.label_space} task has no utterance on one side "
            f"(utterances per class: {counts}); choose other corpora or another mapping"
        )


def load_task(
    task: Task,
    data_dir=None,
    features: FeatureConfig = FeatureConfig(),
    normalization: str = "utterance",
) -> TaskData:
    """Loads (preparing synthetic corpora if needed) both corpora of a task."""
    if data_dir and not task.data_dir:  # where external corpora's cards are
        task = dataclasses.replace(task, data_dir=str(data_dir))
    mapping = tasks.mapping(task)
    classes = tuple(mapping)
    label_of = {e: i for i, c in enumerate(classes) for e in mapping[c]}
    src, src_frames = load_normalized(task.source, data_dir, features, normalization)
    same = task.target == task.source  # loso, a source model's stage: read it once
    tgt = src if same else load_corpus(task.target, data_dir, features)
    _check_counts(task, classes, label_of, src, tgt)
    tgt_frames = src_frames if same else normalize(tgt, normalization)
    in_label_space = list(label_of)
    src_keep = np.isin(src.emotion, in_label_space)
    in_task = np.isin(tgt.emotion, in_label_space)
    notes = {}
    if task.protocol == "loso":  # one corpus: the fold is tested, the others train
        test = np.isin(tgt.speaker, fold_speakers(task, tgt.speaker[in_task]))
        src_keep &= ~test
        target_adapt = target_test = _split(tgt, tgt_frames, label_of, in_task & test)
    elif task.protocol in ("emobox_fold", "db_split"):  # one corpus, published lists
        train_keys, test_keys = published_split(task)
        test = np.isin(tgt.utt_id, list(test_keys))
        src_keep &= np.isin(src.utt_id, list(train_keys)) & ~test
        target_adapt = target_test = _split(tgt, tgt_frames, label_of, in_task & test)
        both = set(src.speaker[src_keep]) & set(tgt.speaker[in_task & test])
        notes[task.protocol] = {
            "train_utterances": int(src_keep.sum()),
            "test_utterances": int((in_task & test).sum()),
            "speakers_in_both": len(both),
            "speaker_independent": not both,
        }
    elif task.protocol == "transductive":
        target_adapt = target_test = _split(tgt, tgt_frames, label_of, in_task)
    else:
        speakers = sorted(set(tgt.speaker[in_task]))
        if len(speakers) < 2:
            raise ConfigError(f"held_out needs 2+ target speakers; {task.target} has {speakers}")
        adapt_speakers = speakers[0::2]
        adapt = np.isin(tgt.speaker, adapt_speakers)
        target_adapt = _split(tgt, tgt_frames, label_of, in_task & adapt)
        target_test = _split(tgt, tgt_frames, label_of, in_task & ~adapt)
    source_val = None
    if task.source_val > 0:  # whole speakers out of training, for model selection
        held = tasks.validation_speakers(src.speaker[src_keep], task.source_val)
        val = src_keep & np.isin(src.speaker, held)
        src_keep &= ~val
        source_val = _split(src, src_frames, label_of, val)
        notes["source_val"] = {
            "speakers": list(held),
            "utterances": int(val.sum()),
            "train_utterances": int(src_keep.sum()),
        }
    source = _split(src, src_frames, label_of, src_keep)
    stats = {d.name: d.manifest["stats"] for d in (src, tgt)}
    if len(tasks.corpora_of(task.source)) > 1:  # each source corpus's own, for predict
        stats |= {n: store.read_manifest(n, data_dir, features)["stats"]
                  for n in tasks.corpora_of(task.source)}  # fmt: skip
    ood = None
    if task.ood:  # the tested speakers' utterances of the held-out emotions
        is_ood = np.isin(tgt.emotion, task.ood)
        if task.protocol != "transductive":  # held_out, loso: the test speakers only
            is_ood &= np.isin(tgt.speaker, target_test.speakers)
        ood = _split(tgt, tgt_frames, {e: -1 for e in task.ood}, is_ood)
    return TaskData(task, mapping, source, target_adapt, target_test, stats, ood, notes, source_val)


def published_split(task: Task) -> tuple[set[str], set[str]]:
    """(train utt ids, test utt ids): EmoBox's fold `task.fold` of an emobox:<ds>
    corpus (read from the metadata its card names), or the train and test splits
    of an audformat database (its card's)."""
    card = external.read_card(task.source, task.data_dir or None)
    if task.protocol == "emobox_fold":
        return emobox.fold_keys(card["metadata"], card["dataset"], task.fold)
    splits = card.get("splits", {})
    if not splits.get("train") or not splits.get("test"):
        raise ConfigError(
            f"data.protocol=db_split: {task.source} has no train and test splits "
            f"(train {len(splits.get('train', []))}, test {len(splits.get('test', []))} utterances)"
        )
    return set(splits["train"]), set(splits["test"])


def fold_speakers(task: Task, speakers) -> tuple[str, ...]:
    """The test speakers of a loso task's fold, or a ValueError naming the folds."""
    folds = tasks.loso_folds(task.target, speakers)
    if not 0 <= task.fold < len(folds):
        listed = "; ".join(f"{k}: {','.join(f)}" for k, f in enumerate(folds))
        raise ConfigError(
            f"data.fold={task.fold} is out of range: {task.target} has {len(folds)} folds "
            f"(0-{len(folds) - 1}; fold: its speakers): {listed}"
        )
    return folds[task.fold]


class _Cropper:
    """Vectorised crops of a Split inside tf.data: rows -> [B, T, F] plus mask."""

    def __init__(self, split: Split, crop_frames: int):
        self.frames = tf.constant(split.frames)
        self.offsets = tf.constant(split.offsets)
        self.lengths = tf.constant(split.lengths)
        self.pad_row = tf.constant(len(split.frames) - 1, tf.int64)
        self.T = crop_frames

    def __call__(self, idx, start):
        pos = start[:, None] + tf.range(self.T, dtype=tf.int64)[None, :]
        mask = pos < tf.gather(self.lengths, idx)[:, None]
        rows = tf.where(mask, tf.gather(self.offsets, idx)[:, None] + pos, self.pad_row)
        return tf.gather(self.frames, rows), mask

    def random_starts(self, idx, seed):
        room = tf.maximum(tf.gather(self.lengths, idx) - self.T, 0) + 1
        u = tf.random.stateless_uniform(tf.shape(idx), seed=seed, dtype=tf.float64)
        return tf.minimum(tf.cast(u * tf.cast(room, tf.float64), tf.int64), room - 1)


def _shuffled_indices(n: int, batch: int, step, seed: int):
    """Global batch `step` of the stream of epoch-wise permutations of range(n)."""
    pos = step * batch + tf.range(batch, dtype=tf.int64)
    epoch, k = pos // n, pos % n
    first = epoch[0]
    perms = tf.stack(
        [
            tf.random.experimental.stateless_shuffle(
                tf.range(n, dtype=tf.int64), seed=tf.stack([seed, first + j])
            )
            for j in range(batch // n + 2)  # a batch spans at most this many epochs
        ]
    )
    return tf.gather_nd(perms, tf.stack([epoch - first, k], axis=1))


def _balanced_indices(label: np.ndarray, num_classes: int, batch: int, step, seed: int):
    """Class-stratified batch: classes round-robin from a random offset, so every class
    with members is present when batch >= classes; members drawn uniformly."""
    present = np.array([c for c in range(num_classes) if np.any(label == c)], np.int64)
    members = np.concatenate([np.flatnonzero(label == c) for c in present]).astype(np.int64)
    counts = np.array([np.sum(label == c) for c in present], np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    s1 = tf.stack([seed, 2 * step])
    s2 = tf.stack([seed, 2 * step + 1])
    offset = tf.random.stateless_uniform([], s1, maxval=len(present), dtype=tf.int64)
    slot = (tf.range(batch, dtype=tf.int64) + offset) % len(present)
    u = tf.random.stateless_uniform([batch], s2, dtype=tf.float64)
    within = tf.cast(u * tf.cast(tf.gather(counts, slot), tf.float64), tf.int64)
    return tf.gather(members, tf.gather(starts, slot) + within)


def train_dataset(
    data: TaskData,
    batch_size: int = 32,
    crop_frames: int = 300,
    balanced: bool = False,
    seed: int = 0,
    process_index: int = 0,
    process_count: int = 1,
    start_step: int = 0,
    halves: tuple[str, ...] = ("source", "target"),
) -> tf.data.Dataset:
    """Infinite stream of paired training batches (this process's slice of each),
    from batch `start_step` on (a resumed run continues the same stream).
    `halves`: which halves a batch holds, ("target",) for source-free adaptation
    and ("source",) for a source model; each half is the same whichever else
    the batch holds."""
    if batch_size % process_count:
        raise ValueError(f"batch_size {batch_size} is not divisible by {process_count} processes")
    local = batch_size // process_count
    lo, hi = process_index * local, (process_index + 1) * local
    src, tgt = data.source, data.target_adapt
    src_crop, tgt_crop = _Cropper(src, crop_frames), _Cropper(tgt, crop_frames)
    src_label, src_speaker, src_gender = (
        tf.constant(a) for a in (src.label, src.speaker, src.gender)
    )
    seed = np.int64(seed)

    def target_half(step):
        t_idx = _shuffled_indices(len(tgt), batch_size, step, seed * 4 + 2)
        t_start = tgt_crop.random_starts(t_idx, tf.stack([seed * 4 + 4, step]))[lo:hi]
        t_idx = t_idx[lo:hi]
        t_x, t_mask = tgt_crop(t_idx, t_start)
        return {"x": t_x, "mask": t_mask, "index": tf.cast(t_idx, tf.int32)}

    def source_half(step):
        if balanced:
            s_idx = _balanced_indices(src.label, len(data.classes), batch_size, step, seed * 4 + 1)
        else:
            s_idx = _shuffled_indices(len(src), batch_size, step, seed * 4 + 1)
        s_start = src_crop.random_starts(s_idx, tf.stack([seed * 4 + 3, step]))[lo:hi]
        s_idx = s_idx[lo:hi]
        s_x, s_mask = src_crop(s_idx, s_start)
        return {
            "x": s_x,
            "mask": s_mask,
            "label": tf.gather(src_label, s_idx),
            "speaker": tf.gather(src_speaker, s_idx),
            "gender": tf.gather(src_gender, s_idx),
            "index": tf.cast(s_idx, tf.int32),
        }

    make_half = {"source": source_half, "target": target_half}
    unknown = set(halves) - set(make_half)
    if unknown or not halves:
        raise ValueError(f"unknown batch halves {sorted(unknown)}; known: {sorted(make_half)}")

    def make(step):
        return {h: make_half[h](step) for h in ("source", "target") if h in halves}

    ds = tf.data.Dataset.counter(start=start_step)
    return _parallel_map(ds, make)


def eval_windows(lengths: np.ndarray, crop_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(utterance index, start frame) of the windows covering every utterance whole."""
    idx, starts = [], []
    for i, n in enumerate(lengths):
        k = max(1, -(-int(n) // crop_frames))
        s = np.arange(k) * crop_frames
        s[-1] = max(0, int(n) - crop_frames)  # last window ends at the utterance end
        idx += [i] * k
        starts += s.tolist()
    return np.array(idx, np.int64), np.array(starts, np.int64)


def eval_dataset(
    split: Split,
    batch_size: int = 64,
    crop_frames: int = 300,
    process_index: int = 0,
    process_count: int = 1,
) -> tf.data.Dataset:
    """Finite stream covering every utterance of `split` once, with labels."""
    if batch_size % process_count:
        raise ValueError(f"batch_size {batch_size} is not divisible by {process_count} processes")
    idx, starts = eval_windows(split.lengths, crop_frames)
    n = len(idx)
    padded = -(-n // batch_size) * batch_size
    valid = np.arange(padded) < n
    idx = np.concatenate([idx, np.zeros(padded - n, np.int64)])
    starts = np.concatenate([starts, np.zeros(padded - n, np.int64)])
    local = batch_size // process_count
    cols = slice(process_index * local, (process_index + 1) * local)
    shape = (-1, batch_size)
    crop = _Cropper(split, crop_frames)
    label = tf.constant(split.label)

    def make(i, s, v):
        x, mask = crop(i, s)
        return {
            "x": x,
            "mask": mask & v[:, None],
            "label": tf.gather(label, i),
            "index": tf.cast(i, tf.int32),
            "valid": v,
        }

    ds = tf.data.Dataset.from_tensor_slices(
        (idx.reshape(shape)[:, cols], starts.reshape(shape)[:, cols], valid.reshape(shape)[:, cols])
    )
    return _parallel_map(ds, make)


def _parallel_map(ds: tf.data.Dataset, fn) -> tf.data.Dataset:
    """`ds.map(fn)`, one call in flight per core this process may run on, in
    order, PREFETCH batches ahead; without tf.data's autotuning. Its model thread
    sleeps up to a minute between passes, and deleting an iterator waits for it
    to wake: a run sat 0-60 s after its last step while its training stream was
    torn down (docs/benchmarks.md; a short-lived evaluation stream rarely
    waits). The batches are the same either way: each is a function of its
    index alone."""
    options = tf.data.Options()
    options.autotune.enabled = False
    ds = ds.map(fn, num_parallel_calls=max(1, host_memory.cores()), deterministic=True)
    return ds.prefetch(PREFETCH).with_options(options)


def as_numpy(ds: tf.data.Dataset) -> Iterator[dict]:
    """The batches of a dataset as numpy pytrees."""
    return ds.as_numpy_iterator()
