"""Emo-DNA ablations for a task over N seeds: a sweep (python -m jaxser.sweep) of
configs/emodna.py's variants, with its tables.

    python tools/ablate.py --task synth_emodb:synth_casia --seeds 0 1 2 --out runs/ablate

The task runs in configs/emodna.py's label space (binary arousal) unless `--set
data.label_space=...` says otherwise. Variants (config overrides of
configs/emodna.py, as listed in its docstring): full; without contrastive
decoupling; without corpus alignment; without class-level alignment; fixed
threshold; FlexMatch threshold; orthogonality instead of decoupling; without
the diversity term (the paper's loss; jaxser's default adds it). Finished runs are reused (the table
resumes); `<out>/results.md`, `results.csv`, `results.tex`, `uar.png` hold the
tables, with each variant's tasks won and Wilcoxon p against the full method.
"""

import argparse
import sys
from pathlib import Path

from jaxser import sweep
from jaxser.evaluation import report

VARIANTS = [
    ("emodna", []),
    ("no_decoupling", ["terms.cd.weight=0"]),
    ("no_corpus_alignment", ["terms.adv.weight=0"]),
    ("no_class_alignment", ["terms.pl.weight=0"]),
    ("fixed_threshold", ["emodna.threshold=fixed"]),
    ("flexmatch_threshold", ["emodna.threshold=flexmatch"]),
    ("orthogonality", ["terms.cd.weight=0", "terms.orth.weight=0.1"]),
    ("no_diversity", ["terms.div.weight=0"]),  # the paper's loss: jaxser adds div
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
    p.add_argument("--jobs", type=int, default=1, help="runs at a time")
    p.add_argument("--table_only", action="store_true")
    args = p.parse_args()
    chosen = [(label, "emodna", ov) for label, ov in VARIANTS if label in args.variants]
    tasks = sweep.tasks_of([args.task])
    runs = sweep.resolve(sweep.plan(chosen, tasks, args.seeds, args.set))
    out = Path(args.out)
    failed = [] if args.table_only else sweep.execute(runs, out, args.jobs)
    labels = [label for label, _, _ in chosen]
    names = [r.name for r in runs]
    tasks_ = [f"{s} -> {t}" for s, t in tasks]
    print(report.write(out, labels, tasks_, baseline="emodna", runs=names))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
