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

One key at a time between a search's draw and the config (any method):

    python tools/ablate.py --path emodna:5 --task synth_emodb:synth_emovo,synth_emovo:synth_emodb \
        --set data.label_space=valence --seeds 0 --out runs/ablate/valence

runs the config (`config`), the search's draw 5 (`draw5`, the setting
`python -m jaxser.sweep --search` gives it, with the search's evaluation
cadence and source validation share) and, for each key where draw 5 differs
from the config, draw 5 with that one key set back to the config's value
(`draw5_but_<key>`; keys the space draws together go back together; `--keys`
names a subset), and tables each against `draw5`: which of the draw's
changes its figures depend on. Draws come from `--search_seed` as in the
sweep, so `config` and `draw5` are the search's own runs of draw 0 and 5
(the same config hash; on the same machine, the same numbers).

Leave one speaker out instead of tasks (`--loso CORPUS --folds 0-5`): the
steps on each fold, tabled as the task "CORPUS (loso)"; with `--out` the
search's own folder, its finished runs of the config and the draw are reused:

    python tools/ablate.py --path msac:6 --keys data.normalization --loso synth_emovo \
        --folds 0-5 --set terms.adv.weight=0 --seeds 0 1 --out runs/dev/categorical_loso
"""

import argparse
import functools
import sys
from pathlib import Path

from jaxser import config as config_lib
from jaxser import search, sweep
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


def path_variants(
    method: str, k: int, search_seed: int = 0, keys: list[str] | None = None
) -> tuple[list[tuple[str, str, list[str]]], dict]:
    """The one-key steps from `method`'s search draw `k` back to its config:
    [(label, config file, overrides)] for the config, the draw, and the draw with
    each search key it changes set back to the config's value (keys the space
    draws together, e.g. "train.pretrain,train.pretrain_steps", go back together);
    and {label: {key: (config's value, draw's value)}} of the steps. `keys`: only
    these config keys (one key of a group names the group)."""
    config_file = f"configs/{method}.py"
    space = search.load(config_file)
    members = {key: group for group in space for key in group.split(",")}
    unknown = sorted(set(keys or ()) - set(members))
    if unknown:
        raise SystemExit(
            f"--keys {unknown}: not in {method}'s search space; known: {sorted(space)}"
        )
    drawn = search.draw(space, method, k, search_seed)
    if not drawn:
        raise SystemExit(f"--path {method}:{k}: draw 0 is the config itself; name a draw > 0")
    base = config_lib.load_file(config_file)  # the file's own defaults, never its frozen()
    own = {key: functools.reduce(lambda c, part: c[part], key.split("."), base) for key in members}
    extra = list(sweep.search_overrides_of(config_file, sweep.search_extra()))
    variants = [  # "config": every searched key at the file's own value, frozen() or not
        ("config", config_file, [*extra, *search.overrides(own)]),
        (f"draw{k}", config_file, [*extra, *search.overrides(drawn)]),
    ]
    steps = {}
    for group in sorted({members[key] for key in keys} if keys else space):
        default = {key: own[key] for key in group.split(",")}
        changed = {key: (default[key], drawn[key]) for key in default if default[key] != drawn[key]}
        if changed:
            label = f"draw{k}_but_{group.replace(',', '+')}"
            steps[label] = changed
            variants.append((label, config_file, [*extra, *search.overrides(drawn | default)]))
    return variants, steps


def planned(chosen, task: str, seeds, overrides, loso: str = "", folds: str = ""):
    """The variants' runs on `task` (comma-separated pairs), or on the `folds` of
    `loso`'s leave-one-speaker-out, and the tables' task names."""
    if loso:  # as the sweep's --loso: the corpus checked, the folds read
        pairs, fold_list = sweep.tasks_of([f"{loso}:{loso}"], loso=True), sweep.folds_of(folds)
    else:
        pairs, fold_list = sweep.tasks_of(list(config_lib.names(task))), [None]
    names = [report.task_name(s, t, bool(loso)) for s, t in pairs]
    runs = sweep.resolve(sweep.plan(chosen, pairs, seeds, overrides, folds=fold_list))
    return runs, names


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", default="synth_emodb:synth_casia", help="tasks, comma-separated")
    p.add_argument(
        "--path",
        default="",
        help="METHOD:K: one key at a time between the search's draw K and the config "
        "(instead of Emo-DNA's variants)",
    )
    p.add_argument(
        "--loso", default="", help="leave one speaker out of this corpus (instead of --task)"
    )
    p.add_argument("--folds", default="", help="with --loso: the folds, e.g. 0-5")
    p.add_argument("--search_seed", type=int, default=0, help="the search's seed (--path)")
    p.add_argument("--keys", default="", help="--path: only these config keys, comma-separated")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--out", default="runs/ablate")
    p.add_argument(
        "--variants", nargs="+", default=[v for v, _ in VARIANTS], help="subset of the variants"
    )
    p.add_argument("--set", nargs="*", default=[], help="overrides for every variant")
    p.add_argument("--jobs", type=int, default=1, help="runs at a time")
    p.add_argument("--table_only", action="store_true", help="table the finished runs only")
    args = p.parse_args()
    if args.path:
        method, _, k = args.path.partition(":")
        if not k.isdigit():
            p.error(f"--path {args.path!r}: METHOD:K, e.g. emodna:5")
        keys = list(config_lib.names(args.keys)) or None
        chosen, steps = path_variants(method, int(k), args.search_seed, keys)
        baseline = f"draw{k}"
        for label, changed in steps.items():
            back = ", ".join(f"{key}={old!r} (not {new!r})" for key, (old, new) in changed.items())
            print(f"{label}: {back}")
    else:
        chosen = [(label, "emodna", ov) for label, ov in VARIANTS if label in args.variants]
        baseline = "emodna"
    if bool(args.loso) != bool(args.folds):
        p.error("--loso and --folds go together")
    try:
        runs, tasks_ = planned(chosen, args.task, args.seeds, args.set, args.loso, args.folds)
    except config_lib.ConfigError as e:  # an unknown corpus or config key: before any run
        p.error(str(e))
    out = Path(args.out)
    if args.table_only and not out.is_dir():
        p.error(f"--table_only: no folder {out} (run without --table_only first)")
    failed = [] if args.table_only else sweep.execute(runs, out, args.jobs)
    labels = [label for label, _, _ in chosen]
    names = [r.name for r in runs]
    print(report.write(out, labels, tasks_, baseline=baseline, runs=names))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
