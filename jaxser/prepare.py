"""Prepare a corpus once: `python -m jaxser.prepare --corpus NAME [--path DIR]`.

Computes features (in parallel over files) into a TFDS dataset keyed by corpus
and feature-config hash, plus `manifest.json`. Synthetic corpora render
themselves when --path is omitted. The last line printed is the manifest path.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from jaxser import cli
from jaxser.config import ConfigError
from jaxser.data import corpora
from jaxser.data.features import FeatureConfig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m jaxser.prepare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--corpus", required=True, help=f"one of {sorted(corpora.CORPORA)}")
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
    if args.corpus not in corpora.CORPORA:
        p.error(f"unknown corpus {args.corpus!r}; known corpora: {sorted(corpora.CORPORA)}")
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
