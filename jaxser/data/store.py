"""Prepared feature stores: one TFDS dataset per (corpus, feature config).

Layout under the data dir (default `$JAXSER_DATA_DIR`, else `~/.cache/jaxser`):

    <data_dir>/<corpus>/<feature_hash>/manifest.json        written last: "complete"
    <data_dir>/<corpus>/<feature_hash>/jaxser_<corpus>/1.0.0/  the TFDS dataset
    <data_dir>/<corpus>/audio/                              synthetic corpora: the render

Each corpus has a TFDS builder (`jaxser_<corpus>`, registered when this module is
imported), so `tfds.load("jaxser_emodb", data_dir=<store>, download=False)`
works as in any TFDS project (for the default features; any store reads with
`tfds.builder_from_directory(manifest["tfds"]["builder_dir"])`). Real corpora
read their folder as TFDS's manual dir.

Concurrent prepares of one corpus (processes, sweep jobs, hosts on a shared
filesystem) all succeed: one builds under `<data_dir>/<corpus>/prepare.lock`
(the `filelock` package), the others wait for it and reuse its store.
"""

import concurrent.futures
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import filelock
import numpy as np

from jaxser.data import quiet

quiet.tensorflow()  # before TFDS imports it
import tensorflow_datasets as tfds  # noqa: E402
import tqdm  # noqa: E402

from jaxser.data import arrays, corpora, features, paths, ssl  # noqa: E402
from jaxser.data.corpora import external, synthetic  # noqa: E402
from jaxser.data.corpora.base import Utterance, speakers_are_utterances  # noqa: E402

SPLIT = "full"  # TFDS reserves "all"; tasks split by speaker in the pipeline, not here
MANIFEST = paths.MANIFEST
SKIPPED = "skipped.json"  # the files a failed prepare could not use, with reasons
FORMAT = 1  # of the store; a store of another format is rebuilt


def store_dir(
    corpus: str, data_dir: os.PathLike | str | None, config: features.FeatureConfig
) -> Path:
    return paths.store_dir(corpus, data_dir, config.key())


def prepare_command(corpus: str, data_dir: os.PathLike | str | None = None) -> str:
    if external.route(corpus):
        return external.prepare_command(corpus, data_dir)
    return paths.prepare_command(corpus, corpus in corpora.SYNTHETIC, data_dir)


class NoUsableUtterance(ValueError):
    """Every file of a corpus folder was skipped: nothing to store."""


class StoreMismatch(ValueError):
    """A prepared store was built from another folder, another state of the folder
    or another synthetic render than the one asked for."""


def fingerprint(path: os.PathLike | str) -> dict:
    """{"files", "sha256"} of the file list under `path`: every file's relative path
    and size (hidden files and folders left out). Changes when a file is added,
    removed, renamed or changes size; not when one is only touched or copied."""
    root = Path(path)
    h, n = hashlib.sha256(), 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            f = Path(folder) / name
            h.update(f"{f.relative_to(root).as_posix()}\t{f.stat().st_size}\n".encode())
            n += 1
    return {"files": n, "sha256": h.hexdigest()}


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _CorpusBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Features of every usable utterance of one corpus, in one split."""

    VERSION = tfds.core.Version("1.0.0")
    CORPUS = ""
    MANUAL_DOWNLOAD_INSTRUCTIONS = "Pass the corpus folder, in its published layout, as --path."

    def __init__(
        self,
        *,
        feature_config: features.FeatureConfig = features.FeatureConfig(),
        utterances: list[Utterance] = (),
        workers: int = 1,
        inputs: dict[str, Path] | None = None,
        **kwargs,
    ):
        self.feature_config = feature_config
        self.utterances = list(utterances)
        self.workers = workers
        # utt_id -> the file its features come from ("npy:" kinds: its array)
        self.inputs = inputs or {}
        self.report = {
            "skipped": [], "skipped_ids": set(), "sum": None, "sumsq": None, "frames": 0, "kept": 0
        }  # fmt: skip
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        text = tfds.features.Text()
        return self.dataset_info_from_configs(
            description=f"jaxser features of {self.CORPUS}",
            features=tfds.features.FeaturesDict(
                {
                    "x": tfds.features.Tensor(
                        shape=(None, self.feature_config.dim), dtype=np.float32
                    ),
                    "emotion": text,
                    "speaker": text,
                    "gender": text,
                    "utt_id": text,
                    "text_id": text,
                    "path": text,
                }
            ),
        )

    def _log_download_bytes(self) -> None:  # TFDS's line speaks of downloads: none here
        _say(
            f"{self.CORPUS}: featurising {len(self.utterances)} files "
            f"({self.feature_config.kind}, {self.feature_config.dim} per frame) "
            f"into {self.data_dir}"
        )

    def _log_download_done(self) -> None:
        _say(f"{self.CORPUS}: wrote {self.data_dir}")

    def _split_generators(self, dl_manager):
        return {SPLIT: self._generate_examples()}

    def _generate_examples(self):
        utts, config = self.utterances, self.feature_config
        sources = [
            (str(self.inputs[u.utt_id]), 0.0, 0.0, 0) if u.utt_id in self.inputs
            else (u.path, u.start, u.end, u.channel)
            for u in utts
        ]  # fmt: skip
        # SSL models run in this process on every core (one model in memory, not
        # one per worker); arrays are only read
        in_process = bool(ssl.parse(config.kind) or arrays.parse(config.kind))
        if in_process and ssl.parse(config.kind):
            ssl.set_threads(self.workers)
        if self.workers > 1 and not in_process:
            ctx = multiprocessing.get_context("spawn")  # TensorFlow is not fork-safe
            pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=ctx)
            results = pool.map(
                features.featurize_or_reason, sources, [config] * len(sources), chunksize=8
            )
        else:
            pool, results = None, (features.featurize_or_reason(s, config) for s in sources)
        total = np.zeros(config.dim), np.zeros(config.dim)
        try:
            for utt, (x, reason) in tqdm.tqdm(
                zip(utts, results, strict=True),
                total=len(utts),
                desc=f"features {self.CORPUS}",
                unit="utt",
            ):
                if x is None:
                    self.report["skipped"].append({"path": utt.path, "reason": reason})
                    self.report["skipped_ids"].add(utt.utt_id)
                    continue
                total[0][:] += x.sum(0, dtype=np.float64)
                total[1][:] += np.square(x, dtype=np.float64).sum(0)
                self.report["frames"] += len(x)
                self.report["kept"] += 1
                yield (
                    utt.utt_id,
                    {
                        "x": x,
                        **{
                            k: getattr(utt, k)
                            for k in ("emotion", "speaker", "gender", "utt_id", "text_id", "path")
                        },
                    },
                )
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        if not self.report["kept"]:  # before TFDS's "No examples were yielded"
            raise NoUsableUtterance(self.CORPUS)
        self.report["sum"], self.report["sumsq"] = total


def _builder_class(corpus: str) -> type:
    snake = re.sub(r"[^0-9a-z]+", "_", corpus.lower()).strip("_")  # TFDS's name rules
    camel = "".join(part.title() for part in snake.split("_"))
    return type(
        f"Jaxser{camel}",
        (_CorpusBuilder,),
        {"CORPUS": corpus, "__module__": __name__, "name": f"jaxser_{snake}"},
    )


tfds.disable_progress_bar()  # prepare shows its own
# the built-in corpora's builders (`tfds.load("jaxser_emodb", ...)`); an external
# corpus's (emobox:<ds>, csv:<name>) is made when it is prepared
BUILDERS: dict[str, type] = {name: _builder_class(name) for name in corpora.CORPORA}


def builder_class(corpus: str) -> type:
    return BUILDERS.get(corpus) or _builder_class(corpus)


def read_manifest(
    corpus: str, data_dir=None, config: features.FeatureConfig = features.FeatureConfig()
) -> dict | None:
    path = store_dir(corpus, data_dir, config) / MANIFEST
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    return manifest if manifest.get("format") == FORMAT else None


def prepare(
    corpus: str,
    path: os.PathLike | str | None = None,
    data_dir=None,
    config: features.FeatureConfig = features.FeatureConfig(),
    workers: int | None = None,
    synth_seed: int = 0,
    synth_max_texts: int | None = None,
    rebuild: bool = False,
    allow_missing_arrays: bool = False,
) -> Path:
    """Computes the features of `corpus` once and returns the manifest path.

    Real corpora need `path` (the corpus folder in its published layout).
    Synthetic corpora render themselves when `path` is omitted. A complete store
    (its manifest exists) is reused when it was built from the same folder in
    the same state (`fingerprint`) or the same render; else StoreMismatch says
    what differs, and `rebuild` builds it again. Anything incomplete in its
    place is rebuilt. "npy:" features: utterances without an array fail the
    prepare (ArrayError listing them) unless `allow_missing_arrays`.
    """
    spec = corpora.get(corpus, data_dir)
    out = store_dir(corpus, data_dir, config)
    args = (corpus, path, data_dir, config, synth_seed, synth_max_texts)
    if not rebuild and (done := _complete(*args)) is not None:
        return done
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(out.parent / "prepare.lock"))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        _say(f"{corpus}: another process is preparing it ({lock.lock_file}); waiting")
        lock.acquire()
    try:  # the other process may have finished it meanwhile
        done = None if rebuild else _complete(*args)
        if done is not None:
            return done
        if rebuild and out.exists():
            _say(f"{corpus}: rebuilding {out}")
            shutil.rmtree(out)
        return _build(
            spec, corpus, path, out, config, workers, synth_seed, synth_max_texts,
            allow_missing_arrays,
        )  # fmt: skip
    finally:
        lock.release()


def _complete(corpus, path, data_dir, config, synth_seed, synth_max_texts) -> Path | None:
    """The manifest path of a complete store to reuse, or None; StoreMismatch when
    the store was built from another folder, render or state of the folder."""
    if (manifest := read_manifest(corpus, data_dir, config)) is None:
        return None
    out = store_dir(corpus, data_dir, config)
    source = manifest["source"]
    stamp = source.get("synthetic")
    again = "; add --rebuild to rebuild it (or use another --data_dir)"
    if path is None:
        if stamp and (stamp["seed"], stamp["max_texts"]) != (synth_seed, synth_max_texts):
            raise StoreMismatch(
                f"{out} holds the {corpus} render with seed {stamp['seed']} and max_texts "
                f"{stamp['max_texts']}, not seed {synth_seed} and max_texts {synth_max_texts}"
                + again
            )
        return out / MANIFEST
    asked = str(Path(path).expanduser().resolve())
    if source.get("path") != asked:
        raise StoreMismatch(
            f"{out} was built from {source.get('path')}, not from --path {asked}" + again
        )
    if "fingerprint" in source and (now := fingerprint(asked)) != source["fingerprint"]:
        raise StoreMismatch(
            f"{asked} changed since {out} was built from it ({source['fingerprint']['files']} "
            f"files then, {now['files']} now, or files renamed or resized)" + again
        )
    return out / MANIFEST


def _match_arrays(config, scan, allow_missing: bool) -> dict[str, Path] | None:
    """ "npy:" features: each utterance's array (None for other kinds). Utterances
    without one fail the prepare, listed, unless `allow_missing`: then they are
    skipped with the reason (moved from `scan.utterances` to `scan.skipped`)."""
    if (folder := arrays.parse(config.kind)) is None:
        return None
    found, missing = arrays.match(folder, scan.utterances)
    if missing and not allow_missing:
        raise arrays.ArrayError(
            f"{len(missing)} of {len(scan.utterances)} utterances have no array in {folder} "
            f"(looked for <corpus>-<utt_id>.npy and <corpus>-<file stem>.npy): "
            f"{', '.join(missing[:8])}{', ...' if len(missing) > 8 else ''}; add "
            "--allow_missing_arrays to prepare to leave them out"
        )
    for u in scan.utterances:
        if u.utt_id not in found:
            scan.skip(u.path, f"no array {u.corpus}-{u.utt_id}.npy in {folder}")
    scan.utterances = [u for u in scan.utterances if u.utt_id in found]
    return found


def audio_seconds(utterances) -> float:
    """Their audio's total duration from the files' headers (files whose header
    cannot be read, e.g. video, count 0)."""
    import soundfile as sf

    total = 0.0
    for u in utterances:
        try:
            total += sf.info(u.path).duration
        except Exception:  # soundfile's errors: unreadable header, video
            pass
    return total


def _warn_size(config, utterances, corpus) -> None:
    """Every layer of an SSL model: the size the store will have, said before it
    is written (tens of times the audio's size)."""
    if not ssl.parse(config.kind) or config.layers == 1:
        return
    seconds = audio_seconds(utterances)
    size = seconds * config.frames_per_second * config.dim * 4
    audio = seconds * config.sample_rate * 2  # 16-bit audio at the model's rate
    _say(
        f"{corpus}: warning: every layer of {config.kind} ({config.layers} x "
        f"{config.dim // config.layers} per frame) takes about {size / 2**30:.2f} GiB on disk "
        f"for {seconds:.0f} s of audio ({size / max(audio, 1):.0f}x the audio's size)"
    )


def _build(
    spec, corpus, path, out, config, workers, synth_seed, synth_max_texts, allow_missing_arrays
) -> Path:
    """Renders (synthetic corpora) and featurises the corpus into `out`; the caller
    holds the corpus's lock."""
    workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    source: dict = {"path": str(Path(path).expanduser().resolve()) if path else None}
    if path is not None:
        source["fingerprint"] = fingerprint(source["path"])
    else:
        if not spec.synthetic:
            raise FileNotFoundError(
                f"{corpus} is a licensed corpus: pass its folder, e.g. {prepare_command(corpus)}"
            )
        path = out.parent / "audio"
        _say(f"{corpus}: rendering the synthetic corpus (eSpeak NG) into {path}")
        stamp = synthetic.render(
            corpus,
            path,
            seed=synth_seed,
            max_texts=synth_max_texts,
            workers=workers,
            progress=_progress(f"render {corpus}"),
        )
        source = {"path": str(path), "synthetic": stamp}
    t_render = time.perf_counter() - t0
    scan = spec.scan(path)
    inputs = _match_arrays(config, scan, allow_missing_arrays)
    _warn_size(config, scan.utterances, corpus)
    if out.exists():
        shutil.rmtree(out)  # an interrupted earlier run
    out.mkdir(parents=True)
    builder = builder_class(corpus)(
        data_dir=str(out),
        feature_config=config,
        utterances=scan.utterances,
        workers=workers,
        inputs=inputs,
    )
    try:
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(path))
        )
    except NoUsableUtterance:
        skipped = [dataclasses.asdict(s) for s in scan.skipped] + builder.report["skipped"]
        (out / SKIPPED).write_text(json.dumps(skipped, indent=1))
        # the kind of each reason, without its details: "unreadable audio (...)"
        reasons = Counter(s["reason"].split(" (")[0] for s in skipped).most_common()
        raise NoUsableUtterance(
            f"no usable utterance in {path} ({corpus}): {len(skipped)} files skipped ("
            + ", ".join(f"{r}: {n}" for r, n in reasons)
            + f"); the skipped files and reasons are listed in {out / SKIPPED}"
        ) from None
    t_features = time.perf_counter() - t0 - t_render
    report = builder.report
    kept = [u for u in scan.utterances if u.utt_id not in report["skipped_ids"]]
    manifest = {
        "format": FORMAT,
        "corpus": corpus,
        "num_utterances": len(kept),
        "counts": {
            k: dict(sorted(Counter(getattr(u, k) for u in kept).items()))
            for k in ("emotion", "speaker", "gender")
        },
        "skipped": [dataclasses.asdict(s) for s in scan.skipped] + report["skipped"],
        # the metadata used each utterance's id as its speaker: no speaker-independent split
        "speakers_are_utterances": speakers_are_utterances(kept),
        "features": config.to_dict(),
        "feature_hash": config.key(),
        "stats": features.statistics(report["sum"], report["sumsq"], report["frames"]),
        "num_frames": report["frames"],
        "audio_seconds": round(
            audio_seconds(kept)
            if config.per_utterance or inputs is not None
            else report["frames"] / config.frames_per_second,
            2,
        ),  # fmt: skip
        "source": source,
        "tfds": {
            "name": builder.name,
            "data_dir": str(out),
            "split": SPLIT,
            "version": str(builder.version),
            "builder_dir": str(builder.data_dir),
        },
        # an external corpus's card (beside the store): where it came from, its folds
        **(
            {"card": json.loads((out.parent / external.CARD).read_text())}
            if external.route(corpus)
            else {}
        ),  # fmt: skip
        "timing": {
            "render_s": round(t_render, 2),
            "features_s": round(t_features, 2),
            "workers": workers,
        },
    }
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(out / MANIFEST)  # atomic: the store is complete from here on
    return out / MANIFEST


def _progress(desc: str):
    return lambda it, total: tqdm.tqdm(it, total=total, desc=desc, unit="file")


@dataclasses.dataclass(frozen=True)
class CorpusData:
    """A prepared corpus in memory: every utterance's frames, concatenated.

    frames [total_frames + 1, dim]: the last row is zeros (the padding row);
    utterance i is frames[offsets[i] : offsets[i] + lengths[i]].
    """

    name: str
    frames: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    emotion: np.ndarray  # str
    speaker: np.ndarray  # str
    gender: np.ndarray  # str
    utt_id: np.ndarray  # str
    manifest: dict

    def __len__(self) -> int:
        return len(self.lengths)

    def utterance(self, i: int) -> np.ndarray:
        return self.frames[self.offsets[i] : self.offsets[i] + self.lengths[i]]


def load(
    corpus: str, data_dir=None, config: features.FeatureConfig = features.FeatureConfig()
) -> CorpusData:
    """Reads a prepared store (raises FileNotFoundError naming the prepare command)."""
    manifest = read_manifest(corpus, data_dir, config)
    if manifest is None:
        raise FileNotFoundError(
            f"{corpus} is not prepared in {store_dir(corpus, data_dir, config)}; run: "
            f"{prepare_command(corpus, data_dir)}"
        )
    # builder_from_directory reads the stored feature spec (any n_mels), where
    # tfds.load would rebuild the builder with the default FeatureConfig.
    builder = tfds.builder_from_directory(manifest["tfds"]["builder_dir"])
    rows = list(tfds.as_numpy(builder.as_dataset(split=SPLIT)))
    rows.sort(key=lambda r: r["utt_id"])
    lengths = np.array([len(r["x"]) for r in rows], dtype=np.int64)
    frames = np.concatenate([r["x"] for r in rows] + [np.zeros((1, config.dim), np.float32)])
    text = lambda k: np.array([r[k].decode() for r in rows])  # noqa: E731
    return CorpusData(
        corpus,
        frames,
        np.concatenate([[0], np.cumsum(lengths)[:-1]]),
        lengths,
        text("emotion"),
        text("speaker"),
        text("gender"),
        text("utt_id"),
        manifest,
    )
