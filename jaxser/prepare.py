"""Prepare a corpus once: `python -m jaxser.prepare --corpus NAME [--path DIR]`.

NAME is a built-in corpus, or one described by EmoBox's metadata
(`--corpus emobox:<dataset> --path <folder holding downloads/> --metadata
<EmoBox's data/ dir>`), a CSV manifest (`--corpus csv:<name> --manifest
FILE.csv --path ROOT`) or an audformat database (`--corpus audformat:<name>
--path DB_ROOT`), with `--map name=emotion,...` for emotion names of its own.

Computes features (in parallel over files) into a TFDS dataset keyed by corpus
and feature-config hash, plus `manifest.json`. Synthetic corpora render
themselves when --path is omitted. The last line printed is the manifest path.
"""

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from jaxser import cli
from jaxser.config import ConfigError
from jaxser.data import corpora
from jaxser.data.corpora import audformat_db, csv_manifest, emobox, external
from jaxser.data.corpora.base import speakers_are_utterances
from jaxser.data.features import FeatureConfig


def fold_report(scan, metadata: str, dataset: str) -> dict[str, dict]:
    """EmoBox's folds: per fold, its train and test sizes among the usable
    utterances and how many speakers are on both sides."""
    speaker = {u.utt_id: u.speaker for u in scan.utterances}
    out = {}
    for k in emobox.folds(metadata, dataset):
        train, test = emobox.fold_keys(metadata, dataset, k)
        a = {speaker[x] for x in train if x in speaker}
        b = {speaker[x] for x in test if x in speaker}
        out[str(k)] = {
            "train": len(train & speaker.keys()),
            "test": len(test & speaker.keys()),
            "speakers_in_both": len(a & b),
        }
    return out


def describe_external(p: argparse.ArgumentParser, args, route: tuple[str, str]) -> None:
    """Reads an EmoBox dataset's metadata or a CSV manifest, says what it found,
    and writes the corpus card (`external`) the store and later runs read it by."""
    kind, name = route
    if not args.path:
        p.error(f"--corpus {args.corpus} needs --path (the folder the audio paths start from)")
    need = {"emobox": "metadata", "csv": "manifest"}.get(kind)
    if need and not getattr(args, need):
        p.error(f"--corpus {args.corpus} needs --{need}")
    root = Path(args.path).expanduser().resolve()
    user_map = external.parse_map(args.map)
    if kind == "emobox":
        metadata = str(Path(args.metadata).expanduser().resolve())
        scan = emobox.parse(root, args.corpus, metadata, name, user_map)
        card = {
            "metadata": metadata,
            "dataset": name,
            "folds": fold_report(scan, metadata, name),
        }
    elif kind == "csv":
        manifest = str(Path(args.manifest).expanduser().resolve())
        scan = csv_manifest.parse(root, args.corpus, manifest, user_map)
        card = {"manifest": manifest}
    else:
        scan, splits = audformat_db.read(root, args.corpus, user_map)
        card = {"splits": splits}
    usable = scan.utterances
    if not usable:
        reasons = Counter(s.reason.split(" (")[0] for s in scan.skipped).most_common()
        raise ConfigError(
            f"{args.corpus}: no usable utterance of {len(scan.skipped)} rows ("
            + ", ".join(f"{r}: {n}" for r, n in reasons)
            + ")"
        )
    same = speakers_are_utterances(usable)
    card |= {
        "path": str(root),
        "map": user_map,
        "emotions": sorted({u.emotion for u in usable}),
        "sample_rate": 16000,
        "speakers": len({u.speaker for u in usable}),
        "speakers_are_utterances": same,
    }
    path = external.write_card(args.corpus, args.data_dir, card)
    print(
        f"{args.corpus}: {len(usable)} utterances, {card['speakers']} speakers, emotions "
        f"{card['emotions']}, {len(scan.skipped)} rows skipped; card {path}",
        file=sys.stderr,
    )
    for k, f in card.get("folds", {}).items():
        print(
            f"{args.corpus}: EmoBox fold {k}: {f['train']} train, {f['test']} test utterances, "
            f"{f['speakers_in_both']} speakers in both",
            file=sys.stderr,
        )
    if "splits" in card:
        print(
            f"{args.corpus}: splits: {len(card['splits']['train'])} train, "
            f"{len(card['splits']['test'])} test utterances (data.protocol=db_split)",
            file=sys.stderr,
        )
    if same:
        print(
            f"{args.corpus}: every utterance is its own speaker in this metadata: "
            "speaker-independent protocols (loso, held_out) cannot be speaker-independent",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m jaxser.prepare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--corpus",
        required=True,
        help=f"one of {sorted(corpora.CORPORA)}, or emobox:<dataset>, csv:<name>, audformat:<name>",
    )
    p.add_argument("--metadata", help="emobox:<dataset>: EmoBox's data/ folder")
    p.add_argument("--manifest", help="csv:<name>: the CSV (file,emotion,speaker[,gender,...])")
    p.add_argument(
        "--map",
        default="",
        help="emobox/csv: emotion names of the corpus -> canonical ones or 'other', "
        "e.g. ps=surprise,pleasant=other",
    )
    p.add_argument("--path", help="corpus folder in its published layout (TFDS manual dir)")
    p.add_argument("--data_dir", help="store root (default $JAXSER_DATA_DIR or ~/.cache/jaxser)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument(
        "--features",
        default="logmel",
        help="logmel (default), mfcc, opensmile:<set>:<level> (level lld or functionals, e.g. "
        "opensmile:eGeMAPSv02:functionals), ssl:<checkpoint dir>[:<layers>] (layers last, "
        "all or an index), or npy:<dir> (arrays named <corpus>-<utt_id>.npy); README 'Features'",
    )
    p.add_argument(
        "--allow_missing_arrays",
        action="store_true",
        help="npy features: leave out the utterances that have no array (listed as skipped) "
        "instead of refusing to prepare",
    )
    p.add_argument("--sample_rate", type=int, default=16000)
    p.add_argument("--n_mels", type=int, default=64)
    p.add_argument("--synth_seed", type=int, default=0, help="seed of a synthetic render")
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="build the store again, also when one was built from another folder or render",
    )
    cli.add_debug(p)
    args = p.parse_args(argv)
    try:
        route = external.route(args.corpus)
    except ConfigError as e:
        p.error(str(e))
    if route is None and args.corpus not in corpora.CORPORA:
        p.error(
            f"unknown corpus {args.corpus!r}; known corpora: {sorted(corpora.CORPORA)}, "
            "or emobox:<dataset> / csv:<name> / audformat:<name>"
        )
    if route is None and (args.metadata or args.manifest or args.map):
        p.error("--metadata, --manifest and --map are for emobox:, csv: and audformat: corpora")
    if args.path is not None and not Path(args.path).expanduser().is_dir():
        p.error(f"--path {args.path}: no such folder")
    if args.workers is not None and args.workers < 1:
        p.error(f"--workers {args.workers}: at least 1")

    from jaxser.data import store  # TensorFlow: imported only once the arguments are valid

    try:
        config = FeatureConfig(kind=args.features, sample_rate=args.sample_rate, n_mels=args.n_mels)
        if args.allow_missing_arrays and not config.kind.startswith("npy:"):
            p.error("--allow_missing_arrays is for npy:<dir> features")
        _ = config.dim, config.key()  # openSMILE's package, the checkpoint, the arrays
    except ConfigError as e:
        p.error(f"--features {args.features}: {e}")
    if route is not None:  # the card, once every argument is valid
        with cli.one_line_errors(cli.debugging(args)):
            describe_external(p, args, route)
    t0 = time.perf_counter()
    with cli.one_line_errors(
        cli.debugging(args), corpora.LayoutError, store.NoUsableUtterance, store.StoreMismatch
    ):
        path = store.prepare(
            args.corpus,
            args.path,
            args.data_dir,
            config,
            args.workers,
            synth_seed=args.synth_seed,
            rebuild=args.rebuild,
            allow_missing_arrays=args.allow_missing_arrays,
        )
    wall = time.perf_counter() - t0
    m = json.loads(path.read_text())
    t = m["timing"]
    busy = t["render_s"] + t["features_s"]
    print(
        f"{m['corpus']}: {m['num_utterances']} utterances, {m['audio_seconds']:.0f} s of audio, "
        f"{len(m['skipped'])} skipped",
        file=sys.stderr,
    )
    print(
        "emotions: " + ", ".join(f"{k} {v}" for k, v in m["counts"]["emotion"].items()),
        file=sys.stderr,
    )
    for s in m["skipped"][:20]:
        print(f"  skipped {s['path']}: {s['reason']}", file=sys.stderr)
    if wall > 0.5 * busy:  # a fresh run, not a reuse
        print(
            f"wall {wall:.1f} s (render {t['render_s']:.1f} s, features {t['features_s']:.1f} s,"
            f" {t['workers']} workers): {m['audio_seconds'] / max(busy, 1e-9):.0f}x real time",
            file=sys.stderr,
        )
    else:
        print(f"reused the prepared store ({wall:.1f} s)", file=sys.stderr)
    print(path)


if __name__ == "__main__":
    main()
