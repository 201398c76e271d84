"""One run, built in one place: `check(config)`, `setup(config)`, `restore(workdir)`,
`train(config, workdir)`.

- `check` validates every name and option of a config without data or disk.
- `build` makes what a step needs from the task's classes alone (method,
  optimizer, mesh, replicated initial state, and the train step jit-compiled
  once with the batch sharded on the mesh's "data" axis, the state replicated
  and donated); benchmarks and multi-device tests call it on in-memory batches.
- `setup` loads the task's data first, then calls `build`: an `Experiment`.
- `restore` rebuilds the experiment of a run folder with its last checkpoint;
  `restore_model` the same without data (classes from the config; for
  predicting on new audio).
- `train` checks everything, builds the experiment (so a bad option fails
  before the workdir is touched), then writes config.json, trains or reuses the
  shared pretraining stage if the config names one (`pretrain_workdir`; for a
  source-free method, a source model trained on the source alone, unless
  `config.source_model` gives one), fits (jaxser/training/loop.py) and writes
  results.json (`write_results`: with the stage's figures as
  `before_adaptation`).

This is the only place that jits the train step. Importing it needs no
TensorFlow: the data pipeline is imported when a run reads data, so the step
can be benchmarked on an accelerator box without it.
"""

import contextlib
import dataclasses
import fcntl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import ml_collections
from jax.sharding import Mesh

from jaxser import compilation, methods, models, parallel, run_folder, stages
from jaxser.config import ConfigError
from jaxser.data import batch as batch_lib
from jaxser.data import features as features_lib
from jaxser.data import tasks
from jaxser.data.features import FeatureConfig
from jaxser.evaluation import evaluators, ood
from jaxser.evaluation import results as results_lib
from jaxser.evaluation.forward import make_forward
from jaxser.methods.base import Method
from jaxser.models import frames
from jaxser.training import checkpoints, loop, optim, runtime
from jaxser.training.state import TrainState, init_state
from jaxser.training.step import make_train_step

OPTIMIZERS = ("adam", "sgd")


@dataclasses.dataclass
class Experiment:
    config: ml_collections.ConfigDict
    classes: tuple[str, ...]
    features: FeatureConfig
    crop_frames: int
    method: Method
    tx: Any  # optax.GradientTransformation
    mesh: Mesh
    state: TrainState  # replicated; the step donates it
    step: Callable  # jitted (state, sharded batch) -> (state, logs)
    forward: Callable  # jitted (variables, x, mask) -> (logits, features), for evaluation
    evaluators: dict  # name -> evaluator (jaxser/evaluation/evaluators.py)
    data: Any = None  # pipeline.TaskData; None when built from classes alone
    # evaluators of the final model only (results.json), not of the periodic
    # evaluations: the OOD evaluator (its ODIN pass differentiates every utterance)
    final_evaluators: dict = dataclasses.field(default_factory=dict)
    # the resolved config of the pretraining stage the run starts from (None: none)
    stage: ml_collections.ConfigDict | None = None


feature_config = features_lib.from_config


def feature_record(features: FeatureConfig) -> dict:
    """What a run folder records of its features (`run_folder.write_normalization`)."""
    return {
        "kind": features.kind,
        "key": features.key(),
        "source_identity": features.source_identity(),
    }


def crop_frames(config) -> int:
    """Frames per training window: one for a vector per utterance."""
    features = feature_config(config)
    if features.per_utterance:
        return 1
    return round(config.data.crop_seconds * features.frames_per_second)


def shape_batch(config, num_classes: int) -> dict:
    """An in-memory batch of the run's shapes (the model's init needs only shapes)."""
    return batch_lib.random(
        config.train.batch_size, crop_frames(config), feature_config(config).dim, num_classes
    )


def _known(key: str, value, known) -> None:
    if value not in known:
        raise ConfigError(f"unknown config.{key}={value!r}; known: {sorted(known)}")


# numbers a run cannot work with: (key, the least allowed, whether it may equal it)
BOUNDS = (
    ("train.steps", 0, False),
    ("train.batch_size", 0, False),
    ("train.eval_batch_size", 0, False),
    ("train.log_every", 0, False),
    ("train.eval_every", 0, False),
    ("train.checkpoint_every", 0, False),
    ("train.keep_checkpoints", 0, False),
    ("train.learning_rate", 0, True),
    ("train.weight_decay", 0, True),
    ("train.warmup_steps", 0, True),
    ("train.grad_clip", 0, True),
    ("data.crop_seconds", 0, False),
    ("model.frames_features", 0, False),
    ("model.mlp_features", 0, False),
    ("model.mlp_layers", 0, True),
)
# methods that read no target batch: their stage may evaluate on its own source
NO_TARGET = ("source_model",)


def _check_numbers(config) -> None:
    for key, least, inclusive in BOUNDS:
        section, name = key.split(".")
        value = config[section][name]
        if value < least or (value == least and not inclusive):
            need = f">= {least}" if inclusive else f"> {least}"
            raise ConfigError(f"config.{key}={value} must be {need}")
    for name, entry in config.terms.items():
        if float(entry.get("weight", 0.0)) < 0:
            raise ConfigError(
                f"config.terms.{name}.weight={entry.weight} is negative: a loss term's "
                "weight is >= 0 (0 switches it off)"
            )
    if not 0 <= config.data.source_val < 1:
        raise ConfigError(
            f"config.data.source_val={config.data.source_val} must be in [0, 1): the share "
            "of the source's utterances held out for validation"
        )
    if config.data.source_val and methods.is_source_free(config.method):
        raise ConfigError(
            f"config.data.source_val={config.data.source_val}: {config.method} adapts "
            "without the source corpus, so it has no source validation split; "
            "set it to 0 (its label-free rules and the oracle remain)"
        )
    if stages.uses_stage(config) and config.train.pretrain_steps <= 0:
        raise ConfigError(
            f"config.train.pretrain={config.train.pretrain!r} is a stage of "
            f"train.pretrain_steps={config.train.pretrain_steps} steps: set "
            "--config.train.pretrain_steps to a positive number, or --config.train.pretrain= "
            "(empty) for no stage"
        )


def _check_features(config) -> None:
    """The feature kind is known (its package, checkpoint or arrays there) and the
    backbone reads it."""
    try:
        features = feature_config(config)
        _ = features.dim, features.key()  # openSMILE's package, the checkpoint, the arrays
    except (ConfigError, ValueError) as e:
        raise ConfigError(f"config.data.features={config.data.features!r}: {e}") from None
    name = models.backbone_name(config)
    if not features.spectrogram and name in models.SPECTROGRAM_BACKBONES:
        what = "one vector per utterance" if features.per_utterance else "frame vectors"
        raise ConfigError(
            f"config.data.features={features.kind!r} gives {what}, not a spectrogram: "
            f"the {name!r} backbone cannot read them; set --config.model.backbone=auto "
            "(frames or mlp)"
        )
    if features.layers > 1 and name not in ("frames", "mlp"):
        raise ConfigError(
            f"config.data.features={features.kind!r} holds {features.layers} layers per frame: "
            "only the frames and mlp backbones mix layers"
        )


def _check_sources(d, single: bool) -> None:
    """Several corpora as one source ("a+b+c"): each named once, none of them the
    target, not under a single-corpus protocol."""
    sources = tasks.corpora_of(d.source)
    if len(sources) == 1:
        return
    if single:
        raise ConfigError(
            f"data.protocol={d.protocol} folds one corpus; data.source={d.source!r} names "
            f"{len(sources)}"
        )
    if "" in sources or len(set(sources)) != len(sources):
        raise ConfigError(f"data.source={d.source!r} names a corpus twice or an empty one")
    if d.target in sources:
        raise ConfigError(
            f"data.target={d.target} is one of the source corpora ({d.source}): its test "
            "utterances would be training ones"
        )


def check(config, stage: ml_collections.ConfigDict | None = None):
    """Every name and option of `config` (method, terms, schedules, backbone,
    numbers, ...), before any data is read or any file written. Raises
    ConfigError. Returns the run's pretraining stage config (None without one):
    `stage` when given (a run folder's saved `stage.json`), else made from the
    file `train.pretrain` names (`stage_config`: only for configs the user gave)."""
    _known("method", config.method, methods.METHODS)
    _known("model.backbone", config.model.backbone, models.BACKBONE_CHOICES)
    _known("model.compute_dtype", config.model.compute_dtype, models.DTYPES)
    _known("model.frames_pooling", config.model.frames_pooling, frames.POOLINGS)
    _check_features(config)
    _known("train.optimizer", config.train.optimizer, OPTIMIZERS)
    _known("data.normalization", config.data.normalization, tasks.NORMALIZATIONS)
    _known("data.protocol", config.data.protocol, tasks.PROTOCOLS)
    d = config.data
    single = d.protocol in tasks.SINGLE_CORPUS
    if single and d.target not in ("", d.source):
        raise ConfigError(
            f"data.protocol={d.protocol} trains and tests on one corpus ({d.source}), but "
            f"data.target={d.target!r}: set --config.data.target= (empty) or to {d.source}"
        )
    if d.protocol == "emobox_fold" and not d.source.startswith("emobox:"):
        raise ConfigError(
            f"data.protocol=emobox_fold uses EmoBox's folds: the source must be an "
            f"emobox:<dataset> corpus, not {d.source!r}"
        )
    if d.protocol == "db_split" and not d.source.startswith("audformat:"):
        raise ConfigError(
            f"data.protocol=db_split uses a database's train/test splits: the source must be "
            f"an audformat:<name> corpus, not {d.source!r}"
        )
    if not single and not d.target:
        raise ConfigError(
            "data.target is empty: name the target corpus (or use data.protocol=loso)"
        )
    if not single and d.target == d.source and config.method not in NO_TARGET:
        raise ConfigError(
            f"data.source and data.target are both {d.source}: the test utterances would be "
            "training utterances; name another target corpus, or use data.protocol=loso "
            "(speaker-independent folds of one corpus)"
        )
    _check_sources(d, single)
    if d.fold < 0:
        raise ConfigError(f"data.fold={d.fold} must be >= 0")
    _check_numbers(config)
    try:
        mapping = tasks.mapping(tasks.from_config(config))
    except ConfigError as e:  # only the user's errors: a bug keeps its own type
        raise ConfigError(f"config.data: {e}") from e
    methods.validate(config)
    optim.parse_multipliers(config.train.lr_multipliers)
    evaluators.from_config(config.train.evaluators)
    if methods.is_source_free(config.method):
        if config.source_model:
            stages.check_source_model(config)
        elif not config.train.pretrain:
            raise ConfigError(
                f"{config.method} adapts a source model: set config.source_model to a "
                "source model's run folder, or config.train.pretrain to a stage config "
                "(configs/source_model.py) to train one"
            )
    if not stages.uses_stage(config):
        return None
    stage = stage if stage is not None else stages.stage_config(config, mapping)
    check(stage)
    return stage


def build(
    config,
    classes: tuple[str, ...],
    num_target: int | None,
    *,
    method: Method | None = None,
    mesh: Mesh | None = None,
) -> Experiment:
    """Everything a step needs, from the task's classes alone. `num_target`: the
    target utterances adapted on (None: a model to predict with, whose method
    state is not sized to a target). `method`: a method of the caller's instead
    of the config's (tests bring tiny ones)."""
    classes = tuple(classes)
    compilation.configure(config)  # before the first compilation of the run
    mesh = mesh or parallel.make_mesh()
    parallel.check_batch_size(config.train.batch_size, mesh)
    method = method or methods.build(config, classes, num_target)
    rules = optim.parse_multipliers(config.train.lr_multipliers) + tuple(method.lr_multipliers)
    tx = optim.make_optimizer(config.train, rules)
    repl, shard = parallel.replicated(mesh), parallel.data_sharding(mesh)
    state = init_state(method, tx, shape_batch(config, len(classes)), config.seed, repl)
    step = jax.jit(
        make_train_step(method, tx, config.train.steps, config.seed, classes),
        in_shardings=(repl, shard),
        out_shardings=(repl, repl),
        donate_argnums=0,
    )
    return Experiment(
        config=config,
        classes=classes,
        features=feature_config(config),
        crop_frames=crop_frames(config),
        method=method,
        tx=tx,
        mesh=mesh,
        state=state,
        step=step,
        forward=make_forward(method.model),
        evaluators=evaluators.from_config(config.train.evaluators)
        | (evaluators.VALIDATION if config.data.source_val else {})
        | dict(method.evaluators),
        final_evaluators=_ood_evaluator(config, method),
    )


def _ood_evaluator(config, method: Method) -> dict:
    """{"ood": the OOD evaluator} when `data.ood_classes` holds emotions out of training."""
    if not config.data.ood_classes:
        return {}
    t = config.train
    return {"ood": ood.evaluator(method.model, t.odin_temperature, t.odin_epsilon)}


def load_data(config):
    """The task's data (preparing the synthetic corpora on first use)."""
    from jaxser.data import pipeline  # TensorFlow: only when a run reads data

    d = config.data
    return pipeline.load_task(
        tasks.from_config(config), d.data_dir or None, feature_config(config), d.normalization
    )


def setup(
    config, *, method: Method | None = None, stage: ml_collections.ConfigDict | None = None
) -> Experiment:
    """The experiment of `config`: its data, then `build` on the task's classes.
    `stage`: the resolved stage config of a run folder (else made by `check`)."""
    stage = check(config, stage)
    parallel.initialize_distributed()
    data = load_data(config)
    exp = build(config, data.classes, len(data.target_adapt), method=method)
    exp.data, exp.stage = data, stage
    return exp


def saved_run(workdir: Path):
    """The config of the run in `workdir` (read as data), and its resolved stage
    config (None without one); run_folder.NoRun if the folder holds no run."""
    workdir = Path(workdir)
    config = run_folder.read_config(workdir)
    stage = run_folder.read_stage(workdir, config) if stages.uses_stage(config) else None
    return config, stage


def restore(workdir: Path, *, method: Method | None = None) -> Experiment:
    """The experiment of the run in `workdir`, its state from the newest checkpoint
    that reads back. Executes no code the run folder names."""
    config, stage = saved_run(Path(workdir))
    exp = setup(config, method=method, stage=stage)
    _, state, step = checkpoints.restore_latest(Path(workdir), exp.state)
    if state is None:
        raise run_folder.NoRun(f"no checkpoint in {Path(workdir) / run_folder.CHECKPOINTS}")
    exp.state = jax.device_put(state, parallel.replicated(exp.mesh))
    return exp


def restore_model(workdir: Path) -> Experiment:
    """The model of the run in `workdir` with the parameters and BatchNorm statistics
    of its last checkpoint, built from the config's classes without reading data
    (for prediction: the method's target state is not built)."""
    config = run_folder.read_config(Path(workdir))
    exp = build(config, tuple(tasks.mapping(tasks.from_config(config))), None)
    state = checkpoints.start_from(exp.state, Path(workdir), strict=True)
    exp.state = jax.device_put(state, parallel.replicated(exp.mesh))
    return exp


def train(
    config,
    workdir: Path,
    *,
    max_steps: int | None = None,
    progress: bool = True,
    method: Method | None = None,
    allow_device_change: bool = False,
) -> dict:
    """Trains `config` in `workdir` (resuming from its last checkpoint) and returns the
    results of the final evaluation (also in `<workdir>/results.json`), or
    `{"interrupted_at": step}` when `max_steps` stopped it first. Raises
    loop.Interrupted on Ctrl-C (the run resumes from its last checkpoint), and
    runtime.DeviceChanged when it would resume on another platform or compute
    dtype than it started on, unless `allow_device_change`."""
    workdir = Path(workdir)
    run_folder.check_folder(workdir)
    exp = setup(config, method=method)  # every check, before the workdir is touched
    run_folder.claim(workdir, config, exp.stage)
    run_folder.write_normalization(workdir, exp.data.stats, feature_record(exp.features))
    if stages.source_model_given(config):
        print(f"start from given source model {config.source_model}", file=sys.stderr)
    elif exp.stage is not None:
        _pretrain(config, exp.stage)
    steps, evaluations = loop.fit(
        exp,
        workdir,
        init_from=stages.stage_dir(config, exp.stage),
        max_steps=max_steps,
        progress=progress,
        allow_device_change=allow_device_change,
    )
    if evaluations is None:
        return {"interrupted_at": steps}
    return write_results(exp, workdir, evaluations, steps)


def write_results(exp: Experiment, workdir: Path, evaluations: dict, steps: int) -> dict:
    """results.json of a run (jaxser/evaluation/results.py) with, for a run that
    started from a stage, the stage's figures on the target as
    `before_adaptation`. A source-free run: the source model evaluated on this
    run's target (its stage saw only the source), `"protocol": "source_free"`
    and the target split's protocol as `target_split`. A run whose target is its
    source outside loso (a source model's own stage) is marked
    `"protocol": "source_training"`: its figures are on its training utterances."""
    config = exp.config
    start = stages.stage_dir(config, exp.stage)
    protocol = config.data.protocol
    if protocol not in tasks.SINGLE_CORPUS and config.data.target == config.data.source:
        protocol = "source_training"
    notes = exp.data.notes if exp.data is not None else {}
    evaluations = dict(evaluations) | notes | {"runtime": runtime.describe(config)}
    if methods.is_source_free(config.method):
        evaluations["before_adaptation"] = stages.before_adaptation(exp, start)
        evaluations["target_split"] = config.data.protocol
        protocol = "source_free"
    elif start is not None:
        evaluations["before_adaptation"] = stages.stage_summary(start)
    return results_lib.write_results(
        workdir,
        config,
        evaluations,
        steps,
        exp.data.mapping,
        protocol,
        run_folder.config_hash(config, exp.stage),
        write=parallel.is_lead(),
    )


def _pretrain(config, stage: ml_collections.ConfigDict) -> Path:
    """Trains the pretraining stage once (runs needing the same one wait for it
    under a file lock), and says whether it was trained or reused; its folder."""
    workdir = stages.pretrain_workdir(config, stage)
    workdir.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if jax.process_count() == 1:  # several processes train one stage together
            lock = stack.enter_context(open(workdir.parent / f"{workdir.name}.lock", "w"))
            fcntl.flock(lock, fcntl.LOCK_EX)
        reused = (workdir / run_folder.RESULTS).is_file()
        if not reused:
            train(stage, workdir, progress=False)
    print(f"start from {'reused' if reused else 'trained'} stage {workdir}", file=sys.stderr)
    return workdir
