"""Emotions of audio files, from a trained run.

    python -m jaxser.predict --workdir runs/emodna-synth_emodb-synth_casia-seed0 clips/ a.wav
    python -m jaxser.predict --workdir RUN clips/ --json --out predictions.json

PATHs are files or folders (searched recursively) of wav, flac or ogg audio, or
the audio track of avi, mp4, mkv, mov or webm video. Each file is decoded,
resampled and featurised exactly as the run's corpora were (the feature
settings and the normalisation are read from the run folder: the same
openSMILE set, the same SSL checkpoint and layers; a checkpoint that moved or
changed since is refused, naming it). A run on `npy:` features takes .npy
arrays of the shape its arrays had instead of audio. A file longer
than the run's training crop is covered by windows whose outputs are averaged,
weighted by their frames, as in evaluation. The model is the run's last
checkpoint.

Normalisation: a run with per-corpus normalisation (the default) normalised
each corpus by its own statistics; new audio is normalised with the statistics
of the run's target corpus (`--normalize_as target`, the corpus the model was
adapted to), of its source corpus (`source`), or of the given files themselves
(`files`: treat them as a new corpus; wants many files).

Output: one row per file, CSV by default (path, prediction, one probability per
class); with --json an object {"predictions": [{"path", "prediction",
"probabilities": {class: p}}], "skipped": [{"path", "reason"}]}. Files that
cannot be used (unreadable, empty, silent, NaN, unknown format) are skipped
with the reason on stderr and in the JSON's "skipped" list. Exit status 0 if
any file got a prediction, 2 if none did.
"""

import argparse
import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import tqdm

from jaxser import cli
from jaxser.data import features

AUDIO = (".wav", ".flac", ".ogg")
VIDEO = features.VIDEO
PROGRESS_FROM = 6  # files: a progress bar from this many on
NORMALIZE_AS = ("target", "source", "files")


def find_files(paths: list[str], kinds=AUDIO + VIDEO) -> tuple[list[Path], list[dict]]:
    """Files with a suffix of `kinds` under `paths` (folders recursively, hidden
    files left out) and the paths skipped with their reason."""
    found, skipped = [], []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(
                f for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )  # fmt: skip
        elif p.is_file():
            files = [p]
        else:
            skipped.append({"path": str(p), "reason": "no such file or folder"})
            continue
        for f in files:
            if f.suffix.lower() in kinds:
                found.append(f)
            else:
                skipped.append({"path": str(f), "reason": f"unknown format ({f.suffix or 'none'})"})
    return list(dict.fromkeys(found)), skipped


def run_statistics(workdir: Path, config) -> dict:
    """corpus -> {"mean", "std"} of the run's corpora: from the run folder, else from
    the prepared stores (runs made before runs recorded them)."""
    from jaxser import experiment, run_folder

    saved = run_folder.read_normalization(workdir)
    if saved is not None:
        return saved
    from jaxser.data import store

    fc = experiment.feature_config(config)
    stats = {}
    for corpus in (config.data.source, config.data.target):
        manifest = store.read_manifest(corpus, config.data.data_dir or None, fc)
        if manifest is None:
            raise FileNotFoundError(
                f"{workdir} records no feature statistics and {corpus} is not prepared in "
                f"{store.store_dir(corpus, config.data.data_dir or None, fc)}; run: "
                f"{store.prepare_command(corpus, config.data.data_dir or None)}"
            )
        stats[corpus] = manifest["stats"]
    return stats


def as_split(feats: list[np.ndarray], names: list[str], how: str, stats: dict | None):
    """The files as a pipeline Split (no labels), normalised as the run's corpora
    were (`pipeline.normalize_frames`; `stats` None: the files' own statistics;
    per speaker: the files are taken as one speaker's)."""
    from jaxser.data import pipeline

    lengths = np.array([len(x) for x in feats], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    frames = np.concatenate([*feats, np.zeros((1, feats[0].shape[1]), np.float32)])
    if how == "corpus" and stats is None:
        x = frames[:-1].astype(np.float64)
        stats = features.statistics(x.sum(0), np.square(x).sum(0), len(x))
    n = len(feats)
    return pipeline.Split(
        corpus="files",
        frames=pipeline.normalize_frames(frames, offsets, lengths, how, stats).astype(np.float32),
        offsets=offsets,
        lengths=lengths,
        label=np.zeros(n, np.int32),
        emotion=np.full(n, ""),  # unknown: what predict is for
        speaker=np.zeros(n, np.int32),
        gender=np.zeros(n, np.int32),
        utt_id=np.array(names),
        speakers=("unknown",),
    )


def check_features(workdir: Path, features_now) -> None:
    """ConfigError when the run's SSL checkpoint is not the one its features were
    made with: same path, other content (a moved one fails earlier, in
    `restore_model`, naming its folder)."""
    from jaxser import experiment, run_folder
    from jaxser.config import ConfigError

    recorded = run_folder.read_features(workdir)
    if not features_now.kind.startswith("ssl:") or not recorded:
        return
    now = experiment.feature_record(features_now)
    if now["source_identity"] != recorded["source_identity"]:
        raise ConfigError(
            f"the SSL checkpoint of {features_now.kind} changed since {workdir} was trained "
            f"(content hash {recorded['source_identity']} then, {now['source_identity']} now): its "
            "features would not be the run's; put the original back"
        )


def predict_files(workdir: Path, paths: list[str], normalize_as: str = "target") -> dict:
    """{"classes", "predictions": [...], "skipped": [...]} for the files under `paths`."""
    from jaxser import experiment
    from jaxser.evaluation.predict import predict_split

    exp = experiment.restore_model(workdir)  # fails before any audio is read
    config = exp.config
    check_features(workdir, exp.features)
    how = config.data.normalization
    corpus = {"target": config.data.target, "source": config.data.source}.get(normalize_as)
    stats = run_statistics(workdir, config)[corpus] if how == "corpus" and corpus else None
    npy = exp.features.kind.startswith("npy:")
    files, skipped = find_files(paths, (".npy",) if npy else AUDIO + VIDEO)
    feats, kept = [], []
    bar = tqdm.tqdm(files, desc="featurise", unit="file", disable=len(files) < PROGRESS_FROM)
    for f in bar:
        if f.stat().st_size == 0:
            skipped.append({"path": str(f), "reason": "empty file"})
            continue
        try:
            feats.append(features.featurize(str(f), exp.features))
            kept.append(f)
        except features.BadAudio as e:
            skipped.append({"path": str(f), "reason": str(e)})
    out = {"classes": list(exp.classes), "predictions": [], "skipped": skipped}
    if not feats:
        return out
    variables = {"params": exp.state.params, "batch_stats": exp.state.batch_stats}
    split = as_split(feats, [str(f) for f in kept], how, stats)
    probs = predict_split(
        exp.forward, variables, split, config.train.eval_batch_size, exp.crop_frames, exp.mesh
    )["probs"]
    for f, p in zip(kept, probs, strict=True):
        out["predictions"].append(
            {
                "path": str(f),
                "prediction": exp.classes[int(np.argmax(p))],
                "probabilities": {c: float(v) for c, v in zip(exp.classes, p, strict=True)},
            }
        )
    return out


def to_csv(result: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["path", "prediction", *[f"p_{c}" for c in result["classes"]]])
    for r in result["predictions"]:
        w.writerow(
            [
                r["path"],
                r["prediction"],
                *[f"{r['probabilities'][c]:.6f}" for c in result["classes"]],
            ]
        )
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m jaxser.predict",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--workdir", required=True, help="a run folder of python -m jaxser.train")
    p.add_argument("paths", nargs="+", metavar="PATH", help="audio or video files, or folders")
    p.add_argument("--json", action="store_true", help="JSON instead of CSV")
    p.add_argument("--out", help="write here instead of stdout")
    p.add_argument(
        "--normalize_as",
        default="target",
        choices=NORMALIZE_AS,
        help="per-corpus runs: whose statistics normalise the files (default: target)",
    )
    cli.add_debug(p)
    args = p.parse_args(argv)
    workdir = Path(args.workdir)
    if not (workdir / "config.json").is_file():
        sys.exit(f"error: {workdir} holds no run (no config.json); train one with "
                 "python -m jaxser.train --config configs/<method>.py --workdir DIR")  # fmt: skip
    if args.out and not Path(args.out).parent.is_dir():
        sys.exit(f"error: --out {args.out}: the folder {Path(args.out).parent} does not exist")
    if args.out and Path(args.out).is_dir():
        sys.exit(f"error: --out {args.out} is a folder: name the file to write")
    from jaxser.training.checkpoints import DamagedCheckpoint

    with cli.one_line_errors(cli.debugging(args), DamagedCheckpoint):
        result = predict_files(workdir, args.paths, args.normalize_as)
    for s in result["skipped"]:
        print(f"skipped {s['path']}: {s['reason']}", file=sys.stderr)
    if args.json:
        text = json.dumps({k: result[k] for k in ("predictions", "skipped")}, indent=1) + "\n"
    else:
        text = to_csv(result)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    n, k = len(result["predictions"]), len(result["skipped"])
    print(f"{n} files predicted, {k} skipped", file=sys.stderr)
    if not n:
        sys.exit(2)


if __name__ == "__main__":
    main()
