"""Emo-DNA ablations for a task over N seeds, as a mean +- std table.

    python tools/ablate.py --task synth_emodb:synth_casia --seeds 0 1 2 --out runs/ablate

The task runs in configs/emodna.py's label space (binary arousal) unless `--set
data.label_space=...` says otherwise. Variants (config overrides of
configs/emodna.py, as listed in its docstring):
full; without contrastive decoupling; without corpus alignment; without
class-level alignment; fixed threshold; FlexMatch threshold; orthogonality
instead of decoupling; with the diversity term (not in the paper). Finished
runs are reused (the table resumes).
"""

import argparse
from pathlib import Path

from grid import run_grid, table

VARIANTS = [
    ("emodna", []),
    ("no_decoupling", ["terms.cd.weight=0"]),
    ("no_corpus_alignment", ["terms.adv.weight=0"]),
    ("no_class_alignment", ["terms.pl.weight=0"]),
    ("fixed_threshold", ["emodna.threshold=fixed"]),
    ("flexmatch_threshold", ["emodna.threshold=flexmatch"]),
    ("orthogonality", ["terms.cd.weight=0", "terms.orth.weight=0.1"]),
    ("plus_diversity", ["terms.div.weight=1"]),
]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", default="synth_emodb:synth_casia")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--out", default="runs/ablate")
    p.add_argument(
        "--variants", nargs="+", default=[v for v, _ in VARIANTS], help="subset of the variants"
    )
    p.add_argument("--set", nargs="*", default=[], help="overrides for every variant")
    p.add_argument("--table_only", action="store_true")
    args = p.parse_args()
    chosen = [(label, "emodna", ov + args.set) for label, ov in VARIANTS if label in args.variants]
    if not args.table_only:
        run_grid(chosen, [args.task], args.seeds, Path(args.out))
    monitor = ("pseudo/accuracy", "pseudo/accepted_share")  # at the last evaluation
    print(table([c[0] for c in chosen], [args.task], args.seeds, Path(args.out), monitor=monitor))


if __name__ == "__main__":
    main()
