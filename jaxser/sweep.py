"""Run a results table: every (method, task, seed) as its own run, then the tables.

    python -m jaxser.sweep --methods source_only,dann,emodna \\
        --tasks synth_emodb:synth_casia,synth_casia:synth_emodb --seeds 0,1,2 --out runs/sweep
    python -m jaxser.sweep --methods source_only,mmd --tasks didan6 --jobs 2 \\
        --set train.steps=600 --set data.label_space=categorical
    python -m jaxser.sweep --methods source_only --loso synth_emodb --folds 0-9 --seeds 0
    python -m jaxser.sweep --report runs/sweep      # rewrite the tables from finished runs
    python -m jaxser.sweep --methods source_only,dann --tasks synth_emodb:synth_emovo \
        --seeds 0,1 --search 8 --out runs/search  # 8 settings each, then search.md

Each run is `python -m jaxser.train` in
`<out>/<method>-<source>-<target>-seed<n>-<key>` (`<method>-<label space>-...`
with --label_spaces; `...-fold<k>-seed<n>-<key>` with --loso: single-corpus
runs, `data.protocol=loso`, one per fold, whose table cell is the mean +- std
over the folds), its output in that folder's `train.log`. `<key>` begins the
hash of the run's identity: the config file's bytes, the resolved config (every
`--set` included) and its pretraining stage's resolved config. Another `--set`
or an edited config file is another run in another folder, never a stale
one's numbers. A finished run (its results.json records the hash of this
resolved config) is skipped; results of another config under the same name
stop the sweep before any run, naming the keys that differ; an interrupted
run resumes from its last checkpoint; a failed one is reported with its log's
last lines and the sweep goes on (the exit status is 1 at the end if any
failed). `--jobs N` runs N at a time, each pinned to its own cores (N x cores
per run <= the machine's cores).

Methods are config files of configs/ (`dann` or `configs/dann.py`); tasks are
`source:target` pairs or named sets: `ecan12` (the 12 ordered pairs of B, C, E,
O), `didan6` (the 6 of B, C, E), `dev6` (the development tasks: B, C, E each
to and from O), `test4` (the test tasks: B <-> C, B <-> E), with B, C, E, O =
EmoDB, CASIA, eNTERFACE, EMOVO: their synthetic corpora by default, the real
ones with --real (which fails, before any run, with the prepare command of
every corpus not prepared).

At the end, `<out>/results.md`, `results.csv` (one row per run), `results.tex`
and `uar.png` (jaxser/evaluation/report.py): method x task mean +- std UAR and
WAR, a mean-over-tasks column, the best per task in bold, and against
source_only the tasks won and a paired Wilcoxon signed-rank p-value over
(task, seed) pairs, and each seed method against its own paper's baselines
(report.PAPER_BASELINES); the label space, protocol and model selection (the
last step) are stated above each table. The tables hold this sweep's runs only:
other folders under `--out` are left out and counted in one line, and a run
whose results.json is damaged is named and left out, never fatal.
`--report DIR` tables every run folder in DIR, or, with --methods and
--tasks/--loso, only those runs (nothing is run).

`--search N` runs N settings of each method (`<...>-draw<k>-seed<n>-<key>`):
draw 0 is the config's own, the others are drawn from the search space its
config file declares (`search_space()`, jaxser/search.py), the same draws for
every task and seed. `--set` overrides come after a draw's, so they pin a
key. Search runs evaluate every `--eval_every` steps (default 50) and methods
that train on the source hold out whole speakers, `--source_val` of its
utterances (default 0.2), for the source-validation rules. Then `<out>/search.md`
(jaxser/evaluation/model_selection.py): per selection rule, the method x task
table of what it picked, the picks, the frozen setting per method, and every
rule's rank correlation with target UAR; results.md holds draw 0. Every search
report also writes `<out>/candidates.jsonl.gz` (what search.md tabled, one line
per evaluated step); `--merge FILE` (repeatable) tables such files of earlier
searches with this one, e.g. the same search run in parts on several machines;
a run of this sweep already in such a file (its folder name and config hash)
is not run again: a part lost with its machine's disk is not lost.
Runs with the same resolved config (a draw equal to the config's own setting,
once a draw is frozen into it) run once, the later ones named on stderr.
`--rules_from FILE` (repeatable): a development search's candidates, from which
each method's best label-free rule (the highest rank correlation with target
UAR there, kept where it also beat the frozen setting there with each task held
out) also chooses per task here, against the config's own setting; the sweep
refuses before any run if that search holds one of this sweep's tasks.
"""

import argparse
import concurrent.futures
import dataclasses
import hashlib
import itertools
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from jaxser import cli, experiment, files, methods, run_folder
from jaxser import config as config_lib
from jaxser import search as search_lib
from jaxser.config import ConfigError
from jaxser.data import corpora, paths
from jaxser.data import tasks as tasks_lib
from jaxser.data.corpora import external
from jaxser.evaluation import model_selection, report

# Named task sets: ordered (source, target) pairs of TASK_CORPORA's letters.
TASK_CORPORA = {"B": "emodb", "C": "casia", "E": "enterface", "O": "emovo"}
TASK_SETS = {
    "ecan12": tuple(a + b for a, b in itertools.permutations("BCEO", 2)),  # ECAN's 12
    "didan6": tuple(a + b for a, b in itertools.permutations("BCE", 2)),  # DIDAN's 6
    # the project's protocol (docs/design.md): tune on the pairs with EMOVO, report on these
    "dev6": ("BO", "OB", "CO", "OC", "EO", "OE"),
    "test4": ("BC", "CB", "BE", "EB"),
}
# EmoBox's cross-corpus track: every ordered pair of these corpora, read from
# EmoBox's metadata (emobox:<dataset>), on the four emotions all of them have
EMOBOX_TRACK2 = ("iemocap", "meld", "ravdess", "savee")
EMOBOX_TRACK2_CLASSES = "data.classes=angry,happy,neutral,sad"
BASELINE = "source_only"
LOG = "train.log"
TAIL_LINES = 15
KEY_CHARS = 10  # of a run's identity hash, at the end of its folder name
# a search's runs: evaluated every EVAL_EVERY steps, SOURCE_VAL of the source held out
EVAL_EVERY = 50
SOURCE_VAL = 0.2


@dataclasses.dataclass(frozen=True)
class Run:
    """One (method, task, seed) of a sweep."""

    method: str  # the label in the tables (a config name, or an ablation's name)
    config: str  # config file
    source: str
    target: str
    seed: int
    label_space: str = ""  # "" keeps the config's own
    overrides: tuple[str, ...] = ()  # "key=value", without --config.
    fold: int | None = None  # leave-one-speaker-out: the fold tested (target = source)
    draw: int | None = None  # a search's draw (jaxser/search.py), None outside a search
    setting: tuple[str, ...] = ()  # the draw's "key=value" overrides, before `overrides`
    # set by `resolve`: the hash of the config file's bytes, the resolved config and
    # its stage's (the folder name ends with it), and run_folder.config_hash
    key: str = ""
    config_hash: str = ""
    # set by `resolve`: the "key=value" setting the config file froze for this run's
    # label space and protocol (config.load_frozen), under its draw and overrides
    frozen: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        if not self.key:
            raise ValueError("a run's folder name needs its resolved config: sweep.resolve")
        space = [self.label_space] if self.label_space else []
        fold = [f"fold{self.fold}"] if self.fold is not None else []
        draw = [f"draw{self.draw}"] if self.draw is not None else []
        corpora_ = [paths.corpus_folder(self.source), paths.corpus_folder(self.target)]
        parts = [self.method, *space, *corpora_, *fold, *draw, f"seed{self.seed}"]
        return "-".join([*parts, self.key[:KEY_CHARS]])

    def all_overrides(self) -> list[str]:
        space = [f"data.label_space={self.label_space}"] if self.label_space else []
        loso = [] if self.fold is None else ["data.protocol=loso", f"data.fold={self.fold}"]
        return [
            f"data.source={self.source}",
            f"data.target={self.target}",
            f"seed={self.seed}",
            *space,
            *loso,
            *self.setting,
            *self.overrides,
        ]

    def command(self, workdir: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "jaxser.train",
            "--config",
            self.config,
            "--workdir",
            str(workdir),
            "--no_progress",
            *[f"--config.{o}" for o in self.all_overrides()],
        ]


def corpus_pair(spec: str) -> tuple[str, str] | None:
    """("emobox:tess", "synth_emodb") for "emobox:tess:synth_emodb": the task's two
    corpus names, a route (emobox, csv) joined to the name after it; None when
    the spec is not two names."""
    names, parts = [], spec.split(":")
    while parts:
        part = parts.pop(0)
        if part in external.ROUTES and parts:
            part += ":" + parts.pop(0)
        names.append(part)
    return (names[0], names[1]) if len(names) == 2 and all(names) else None


def loco(spec: str) -> list[tuple[str, str]]:
    """Leave one corpus out: "loco:a,b,c" -> (b+c, a), (a+c, b), (a+b, c): each
    corpus the target of a source made of all the others."""
    names = [n.strip() for n in spec.removeprefix("loco:").split(",") if n.strip()]
    if len(names) < 3 or len(set(names)) != len(names):
        raise ConfigError(
            f"task set {spec!r}: leave-one-corpus-out needs 3 or more different corpora"
        )
    for c in names:
        if c not in corpora.CORPORA and not external.route(c):
            raise ConfigError(f"unknown corpus {c!r} in {spec!r}; known: {sorted(corpora.CORPORA)}")
    return [("+".join(n for n in names if n != held), held) for held in names]


def tasks_of(specs: list[str], real: bool = False, loso: bool = False) -> list[tuple[str, str]]:
    """(source, target) pairs of `source:target` items and named sets; a pair of one
    corpus only for `loso` (else its test utterances would be training ones)."""
    pairs = []
    for spec in specs:
        if spec.startswith("loco:"):
            pairs += loco(spec)
        elif spec == "emobox_track2":
            names = [f"emobox:{c}" for c in EMOBOX_TRACK2]
            pairs += list(itertools.permutations(names, 2))
        elif spec in TASK_SETS:
            name = lambda k: TASK_CORPORA[k] if real else f"synth_{TASK_CORPORA[k]}"  # noqa: E731
            pairs += [(name(a), name(b)) for a, b in TASK_SETS[spec]]
        elif (pair := corpus_pair(spec)) is not None:
            s, t = pair
            for c in (s, t):
                if c not in corpora.CORPORA and not external.route(c):
                    raise ConfigError(
                        f"unknown corpus {c!r} in task {spec!r}; known: {sorted(corpora.CORPORA)}"
                        ", or emobox:<dataset> / csv:<name> / audformat:<name>"
                    )
            if s == t and not loso:
                raise ConfigError(
                    f"task {spec!r} trains and tests on one corpus: its test utterances would "
                    f"be training ones; for single-corpus folds use --loso {s} --folds 0-9"
                )
            pairs.append((s, t))
        else:
            raise ConfigError(
                f"task {spec!r} is neither source:target nor a named set; sets: {sorted(TASK_SETS)}"
            )
    return list(dict.fromkeys(pairs))


def plan(
    methods: list[str | tuple[str, str, list[str]]],
    tasks: list[tuple[str, str]],
    seeds: list[int],
    overrides: list[str] = (),
    label_spaces: list[str] = ("",),
    folds: list[int | None] = (None,),
    search: int = 0,
    search_seed: int = 0,
    search_overrides: list[str] = (),
) -> list[Run]:
    """Every run; a method is a config name or (label, config, its own overrides);
    `folds`: leave-one-speaker-out folds of each task (whose target is its source);
    `search` N > 0: N draws of each method's search space (draw 0: its defaults),
    each run also with `search_overrides` (`search_overrides_of`)."""
    runs = []
    draws = range(search) if search else [None]
    spaces = {}  # config file -> (its search space, the search's overrides it takes)
    for method, space, (source, target), fold, draw, seed in itertools.product(
        methods, label_spaces, tasks, folds, draws, seeds
    ):
        label, cfg, own = (method, method, []) if isinstance(method, str) else method
        config = cfg if cfg.endswith(".py") else f"configs/{cfg}.py"
        label = Path(label).stem if label.endswith(".py") else label
        setting, extra = (), ()
        if draw is not None:
            if config not in spaces:
                spaces[config] = (
                    search_lib.load(config),
                    search_overrides_of(config, search_overrides),
                )
            drawn, extra = spaces[config]
            setting = tuple(search_lib.overrides(search_lib.draw(drawn, label, draw, search_seed)))
        runs.append(
            Run(
                label,
                config,
                source,
                target,
                seed,
                space,
                (*extra, *own, *overrides),
                fold,
                draw,
                setting,
            )  # fmt: skip
        )
    return runs


def search_extra(eval_every: int = EVAL_EVERY, source_val: float = SOURCE_VAL) -> list[str]:
    """The overrides every run of a search takes (before `search_overrides_of`):
    its evaluation cadence and, when > 0, the source validation share."""
    extra = [f"train.eval_every={eval_every}"]
    return extra + ([f"data.source_val={source_val}"] if source_val else [])


def search_overrides_of(config_file: str, extra: list[str]) -> tuple[str, ...]:
    """The search's own overrides a method takes: all of `extra` (the evaluation
    cadence, the source validation share), less the validation share for a
    method that adapts without the source."""
    source_free = methods.is_source_free(config_lib.load_file(config_file).method)
    return tuple(o for o in extra if not (source_free and o.startswith("data.source_val=")))


def folds_of(spec: str) -> list[int]:
    """Fold numbers of "0-9" or "0,2,5" (ranges and single numbers, comma-separated)."""
    folds = []
    for item in config_lib.names(spec):
        lo, _, hi = item.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ConfigError(f"--folds {spec!r}: e.g. 0-9 or 0,1,2")
        folds += list(range(int(lo), int(hi or lo) + 1))
    return list(dict.fromkeys(folds))


def resolve(runs: list[Run]) -> list[Run]:
    """Every run with its identity, once its config loads and passes
    `experiment.check` (before any work: keys, names, options, the task). The
    identity hashes the config file's bytes, the resolved config and its stage's
    resolved config: any change of `--set`, of the file or of the stage gives
    another folder, never a stale run's numbers."""
    out = []
    for run in runs:
        config, frozen = config_lib.load_frozen(run.config, run.all_overrides())
        stage = experiment.check(config)
        text = config_lib.resolve_file(run.config).read_bytes()
        digest = hashlib.sha256(text)
        digest.update(config_lib.identity_json(config).encode())
        digest.update(config_lib.identity_json(stage).encode() if stage is not None else b"")
        out.append(
            dataclasses.replace(
                run,
                key=digest.hexdigest(),
                config_hash=run_folder.config_hash(config, stage),
                frozen=tuple(f"{k}={v}" for k, v in frozen.items()),
            )
        )
    return out


def run_once(runs: list[Run]) -> tuple[list[Run], list[tuple[Run, Run]]]:
    """Each identity once: a run whose resolved config is an earlier run's (a
    search draw equal to the config's own setting, once a draw is frozen into
    it, or draws made equal by --set) is left out, paired with the run that
    stands for it; both are one run, so its choices and figures are the same."""
    first, kept, same = {}, [], []
    for run in runs:
        if run.key in first:
            same.append((run, first[run.key]))
        else:
            first[run.key] = run
            kept.append(run)
    return kept, same


def finished(run: Run, workdir: Path) -> bool:
    """Whether `workdir` holds this run, finished: its results.json is of this
    resolved config. ConfigError (naming the keys that differ) when it holds
    another config's results; a damaged results.json is not finished (a rerun
    resumes from the last checkpoint and writes it again)."""
    if not (workdir / run_folder.RESULTS).is_file():
        return False
    try:
        got = run_folder.read_results(workdir).get("config_hash")
    except files.DamagedFile:
        return False
    if got == run.config_hash:
        return True
    differ = ["results.json records no config_hash"] if not got else []
    if (workdir / run_folder.CONFIG).is_file():
        planned = config_lib.load(run.config, run.all_overrides())
        differ += config_lib.diff(run_folder.read_config(workdir), planned) or ["stage"]
    raise ConfigError(
        f"{workdir} holds the results of another config (keys that differ: {differ}); "
        "delete the folder or use another --out"
    )


def missing_corpora(runs: list[Run]) -> list[str]:
    """The prepare command of every real corpus the runs read that is not prepared."""
    missing = {}
    for run in runs:
        cfg = config_lib.load(run.config, run.all_overrides())
        key = experiment.feature_config(cfg).key()
        data_dir = cfg.data.data_dir or None
        for corpus in (*tasks_lib.corpora_of(run.source), run.target):
            if (paths.store_dir(corpus, data_dir, key) / paths.MANIFEST).is_file():
                continue
            if external.route(corpus):
                missing[corpus] = external.prepare_command(corpus, data_dir)
            elif not corpora.get(corpus).synthetic:  # synthetic corpora prepare themselves
                missing[corpus] = paths.prepare_command(corpus, False, data_dir)
    return list(missing.values())


def _duration(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def _tail(path: Path, n: int = TAIL_LINES) -> str:
    if not path.is_file():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def _core_slots(jobs: int) -> list[set[int]]:
    """Disjoint sets of cores, one per concurrent run (all cores for one job)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if jobs <= 1 or len(cores) < jobs:
        return [set(cores)] * max(jobs, 1)
    per = len(cores) // jobs
    return [set(cores[i * per : (i + 1) * per]) for i in range(jobs)]


def _saved_meta(workdir: Path) -> dict | None:
    """The run's sweep.json as written, or None when it is missing or a kill tore
    it (then its wall time is lost, not the run)."""
    try:
        return files.read_json(workdir / run_folder.SWEEP)
    except files.DamagedFile:
        return None


def setting_text(run: Run) -> str:
    """A search run's setting as the tables name it: its draw's "key=value, ...";
    for draw 0, "defaults" (the config's own), or "frozen: key=value, ..." where
    the config file freezes a setting for its label space and protocol."""
    if run.setting:
        return ", ".join(run.setting)
    return report.FROZEN + ", ".join(run.frozen) if run.frozen else "defaults"


def _meta(run: Run, workdir: Path) -> dict:
    """The run's sweep.json: what it is (method, config, overrides, command, key,
    config hash; in a search its draw and setting, which the tables read from
    here) and `wall_s`, its wall time summed over the attempts that ended
    (absent when none was timed)."""
    meta = _saved_meta(workdir) or {}
    if run.draw is not None:
        meta.update(draw=run.draw, setting=setting_text(run))
    meta.update(
        method=run.method,
        config=run.config,
        overrides=list(run.all_overrides()),
        command=" ".join(run.command(workdir)),
        key=run.key,
        config_hash=run.config_hash,
    )
    return meta


def execute(
    runs: list[Run], out: Path, jobs: int = 1, stream=sys.stderr, elsewhere=frozenset()
) -> list[Run]:
    """Runs every unfinished run, `jobs` at a time; returns the failed ones.
    `elsewhere`: (folder name, config_hash) of runs finished in another place (an
    earlier part's candidates file, `--merge`): not run again, tabled from there.

    A run's sweep.json is written before it starts and again, with its wall
    time, when it ends: a run that finishes after its sweep was killed keeps
    its draw and setting. A finished run without one (a sweep killed before
    this rule) is given one here, without a wall time."""
    out.mkdir(parents=True, exist_ok=True)
    merged = {r.name for r in runs if (r.name, r.config_hash) in elsewhere}
    todo = [r for r in runs if r.name not in merged and not finished(r, out / r.name)]
    not_here = merged | {r.name for r in todo}  # tabled from elsewhere, or to run
    for run in runs:
        workdir = out / run.name
        if run.name not in not_here and _saved_meta(workdir) is None:
            files.write_json(workdir / run_folder.SWEEP, _meta(run, workdir))
    total, done0 = len(runs), len(runs) - len(todo)
    print(
        f"sweep {out}: {total} runs, {done0} finished"
        + (f" ({len(merged)} of them in the --merge files)" if merged else "")
        + f", {len(todo)} to run, {jobs} at a time",
        file=stream,
        flush=True,
    )
    slots: queue.Queue = queue.Queue()
    for cores in _core_slots(jobs):
        slots.put(cores)
    lock = threading.Lock()
    state = {"done": done0, "ran": 0, "failed": []}
    t_start = time.perf_counter()

    def one(run: Run) -> None:
        workdir = out / run.name
        workdir.mkdir(parents=True, exist_ok=True)
        meta = _meta(run, workdir)
        # before the run starts: the run may outlive this sweep
        files.write_json(workdir / run_folder.SWEEP, meta)
        cores = slots.get()
        env = dict(os.environ, OMP_NUM_THREADS=str(max(len(cores), 1)))
        t0 = time.perf_counter()
        try:
            with (workdir / LOG).open("a") as log:
                proc = subprocess.Popen(
                    run.command(workdir), stdout=log, stderr=subprocess.STDOUT, env=env
                )
                if cores:  # before JAX and TensorFlow size their thread pools
                    try:
                        os.sched_setaffinity(proc.pid, cores)
                    except OSError:  # the run ended already
                        pass
                proc.wait()
        finally:
            slots.put(cores)
        wall = time.perf_counter() - t0
        meta["wall_s"] = round(meta.get("wall_s", 0.0) + wall, 1)
        files.write_json(workdir / run_folder.SWEEP, meta)
        ok = proc.returncode == 0 and (workdir / run_folder.RESULTS).is_file()
        with lock:
            state["done"] += 1
            state["ran"] += 1
            elapsed = time.perf_counter() - t_start
            left = total - state["done"]
            eta = elapsed / state["ran"] * left  # runs finished per second so far
            if ok:
                uar = run_folder.read_results(workdir)["uar"]
                what = f"UAR {uar:.4f}"
            else:
                state["failed"].append(run)
                what = f"FAILED (exit {proc.returncode}); last lines of {workdir / LOG}:\n" + (
                    "    " + _tail(workdir / LOG).replace("\n", "\n    ")
                )
            print(
                f"[{state['done']}/{total}] {run.name}: {what} ({wall:.0f} s) | "
                f"elapsed {_duration(elapsed)}, ETA {_duration(eta)}",
                file=stream,
                flush=True,
            )

    with concurrent.futures.ThreadPoolExecutor(max(jobs, 1)) as pool:
        list(pool.map(one, todo))
    return state["failed"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m jaxser.sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--methods", help="comma-separated configs, e.g. source_only,dann,emodna")
    p.add_argument(
        "--tasks",
        help=f"comma-separated source:target pairs (a source may be a+b+c), named sets "
        f"({', '.join(TASK_SETS)}; emobox_track2: EmoBox's cross-corpus track, "
        f"{', '.join(EMOBOX_TRACK2)} from EmoBox's metadata, 4 classes), or "
        "loco:<corpus>,<corpus>,... (leave one corpus out: every corpus the target of all "
        "the others); one loco set per --tasks",
    )
    p.add_argument("--seeds", default="0,1,2", help="comma-separated (default 0,1,2)")
    p.add_argument(
        "--loso",
        default="",
        help="single-corpus, leave-one-speaker-out: comma-separated corpora (instead of --tasks)",
    )
    p.add_argument("--folds", default="", help="with --loso: the folds, e.g. 0-9 or 0,3")
    p.add_argument(
        "--label_spaces",
        default="",
        help="comma-separated (categorical, arousal, valence); default: each config's own",
    )
    p.add_argument("--out", default="runs/sweep", help="the sweep's folder (default runs/sweep)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config override for every run (repeatable), e.g. --set train.steps=600",
    )
    p.add_argument("--jobs", type=int, default=1, help="runs at a time (default 1)")
    p.add_argument("--real", action="store_true", help="named task sets on the real corpora")
    p.add_argument(
        "--report",
        metavar="DIR",
        help="only rewrite DIR's tables from finished runs: every run in DIR, or with "
        "--methods and --tasks/--loso only those runs",
    )
    p.add_argument("--baseline", default=BASELINE, help="compared with (default source_only)")
    p.add_argument(
        "--search",
        type=int,
        default=0,
        metavar="N",
        help="a hyperparameter search: N settings of each method (draw 0: its config's "
        "own), then search.md with every model-selection rule's picks",
    )
    p.add_argument("--search_seed", type=int, default=0, help="the search's draws (default 0)")
    p.add_argument(
        "--merge",
        action="append",
        default=[],
        metavar="FILE",
        help="with --search or --report: an earlier search's candidates.jsonl.gz, tabled "
        "in search.md with this one's; its runs are not run again (repeatable)",
    )
    p.add_argument(
        "--rules_from",
        action="append",
        default=[],
        metavar="FILE",
        help="with --search or --report: a development search's candidates.jsonl.gz "
        "(repeatable); search.md adds each method's per-task choice by the label-free "
        "rule that ranked that search's runs best, where it also paid there held out "
        "(none of its tasks may be this one's)",
    )
    p.add_argument(
        "--eval_every",
        type=int,
        default=EVAL_EVERY,
        help=f"with --search: evaluate every N steps (default {EVAL_EVERY})",
    )
    p.add_argument(
        "--source_val",
        type=float,
        default=SOURCE_VAL,
        help="with --search: share of the source's utterances held out as whole speakers "
        f"(methods that train on the source; default {SOURCE_VAL})",
    )
    cli.add_debug(p)
    args = p.parse_args(argv)
    debug = cli.debugging(args)

    for flag, given in (("--merge", args.merge), ("--rules_from", args.rules_from)):
        if missing_files := [f for f in given if not Path(f).is_file()]:
            p.error(f"{flag}: no such file: {', '.join(missing_files)}")
        if given and not (args.search or args.report):
            p.error(f"{flag} goes with --search N or --report DIR")
    merged = set()  # (folder name, config_hash) of every run in the --merge files
    merged_tasks, dev_tasks = set(), set()  # of the --merge and the --rules_from searches
    with cli.one_line_errors(debug):  # a damaged file stops the sweep before any run
        for f in args.merge:
            cands = model_selection.load(Path(f))
            merged |= {(c.row.run, c.row.config_hash) for c in cands}
            merged_tasks |= {c.row.task for c in cands}
        for f in args.rules_from:
            dev_tasks |= {c.row.task for c in model_selection.load(Path(f))}
    if args.report and not args.methods:
        out = Path(args.report)
        if not out.is_dir():
            p.error(f"{out} is not a folder")
        with cli.one_line_errors(debug, model_selection.SharedTasks):
            own = {r.task for r in report.collect(out).rows}  # before anything is written
            model_selection.refuse_shared(own | merged_tasks, dev_tasks)
            print(report.write(out, baseline=args.baseline))
            if model_selection.has_search(out) or args.merge:
                model_selection.write(out, baseline=args.baseline, merge=args.merge,
                                      rules_from=args.rules_from)  # fmt: skip
                print(out / "search.md")
        print(out / "results.md")
        return
    if not args.methods or bool(args.tasks) == bool(args.loso):
        p.error("--methods and one of --tasks or --loso are needed (or --report DIR)")
    if bool(args.loso) != bool(args.folds):
        p.error("--loso and --folds go together (e.g. --loso synth_emodb --folds 0-9)")
    try:
        seeds = [int(s) for s in config_lib.names(args.seeds)]
    except ValueError:
        p.error(f"--seeds {args.seeds!r}: comma-separated integers, e.g. 0,1,2")
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    if args.search < 0:
        p.error("--search must be 0 (no search) or a number of draws")
    search_overrides = search_extra(args.eval_every, args.source_val)
    out = Path(args.report or args.out)
    overrides = [s.removeprefix("--config.").removeprefix("config.") for s in args.set]
    with cli.one_line_errors(debug):
        run_folder.check_folder(out, "--out")
        if args.loso:
            tasks = tasks_of([f"{c}:{c}" for c in config_lib.names(args.loso)], loso=True)
            folds = folds_of(args.folds)
        else:
            specs = [args.tasks] if args.tasks.startswith("loco:") else config_lib.names(args.tasks)
            tasks, folds = tasks_of(list(specs), real=args.real), [None]
            if "emobox_track2" in specs:  # its four classes
                if len(specs) > 1:
                    p.error("--tasks emobox_track2 sets its classes: run it on its own")
                overrides = [EMOBOX_TRACK2_CLASSES, *overrides]
        runs = plan(
            list(config_lib.names(args.methods)),
            tasks,
            seeds,
            overrides,
            list(config_lib.names(args.label_spaces)) or [""],
            folds,
            args.search,
            args.search_seed,
            search_overrides,
        )
        runs, same = run_once(resolve(runs))
        missing = [] if args.report else missing_corpora(runs)
    task_names = [report.task_name(s, t, bool(args.loso)) for s, t in tasks]
    try:
        model_selection.refuse_shared(task_names, dev_tasks)
    except model_selection.SharedTasks as e:
        p.error(str(e))
    if missing:
        sys.exit("error: corpora not prepared; prepare each once:\n  " + "\n  ".join(missing))

    for run, kept in same:
        print(f"{run.name} has the config of {kept.name}: run once", file=sys.stderr)
    failed = []
    if not args.report:
        elsewhere = {(r.name, r.config_hash) for r in runs} & merged  # run in an earlier part
        with cli.one_line_errors(debug):
            failed = execute(runs, out, args.jobs, elsewhere=elsewhere)
        if elsewhere:
            print(
                f"{len(elsewhere)} runs of this sweep are tabled from the --merge files, in "
                "search.md; results.md holds the runs in its folder",
                file=sys.stderr,
            )
    methods = list(dict.fromkeys(r.method for r in runs))
    with cli.one_line_errors(debug, model_selection.SharedTasks):  # draws > 0: search.md only
        print(report.write(out, methods, task_names, args.baseline, [r.name for r in runs]))
        if args.search or args.merge:
            model_selection.write(out, [r.name for r in runs], args.baseline, args.merge,
                                  args.rules_from)  # fmt: skip
            print(out / "search.md")
    print(out / "results.md")
    if failed:
        print(f"{len(failed)} of {len(runs)} runs failed:", file=sys.stderr)
        for run in failed:
            print(f"  {run.name}: see {out / run.name / LOG}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
