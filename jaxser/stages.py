"""A run's pretraining stage and the model it adapts, in one place.

- A stage (`train.pretrain`, a config file): a first run whose final
  parameters the run starts from, e.g. the source model of a source-free
  method. `stage_config` makes its resolved config from the run's (data,
  model, seed, `train.pretrain_steps`); `pretrain_workdir` is its folder, one
  per stage config, shared by every run that starts from it.
- A given source model (`config.source_model`, a run folder):
  `check_source_model` checks it fits the task.
- `stage_dir`: the folder a run starts from, whichever it is.
- `before_adaptation` / `stage_summary`: the figures a run's results.json
  records of what it started from.

Nothing here trains: jaxser/experiment.py trains a stage when a run needs it.
"""

import hashlib
import json
from pathlib import Path

import jax
import ml_collections

from jaxser import config as config_lib
from jaxser import files, methods, parallel, run_folder
from jaxser.config import ConfigError
from jaxser.data import paths, tasks
from jaxser.training import checkpoints, loop


def source_model_given(config) -> bool:
    return methods.is_source_free(config.method) and bool(config.source_model)


def uses_stage(config) -> bool:
    """Whether a run of `config` starts from its pretraining stage."""
    return bool(config.train.pretrain) and not source_model_given(config)


def stage_config(config, mapping: dict | None = None) -> ml_collections.ConfigDict:
    """The config of `config.train.pretrain` with this run's data, model and seed,
    for `train.pretrain_steps` steps. The stage of a source-free method is a
    source model: its data are the source corpus alone (as its own target, for
    its final evaluation) with the task's classes, so it is shared by every
    target of those classes and never reads the target. `mapping`: the task's
    (class -> emotions), when the caller has resolved it already."""
    stage = config_lib.load_file(config.train.pretrain)
    data = config.data
    if methods.is_source_free(config.method):
        data = ml_collections.ConfigDict(config.data.to_dict())
        if data.label_space == "categorical":
            mapping = mapping if mapping is not None else tasks.mapping(tasks.from_config(config))
            data.classes = ",".join(mapping)
        data.target = data.source
        data.protocol = "transductive"
    with stage.unlocked():
        stage.seed = config.seed
        stage.data = data
        stage.model = config.model
        stage.train.pretrain = ""  # a stage has no stage of its own
        stage.train.steps = config.train.pretrain_steps
        stage.train.eval_every = config.train.pretrain_steps
        stage.train.checkpoint_every = config.train.pretrain_steps
    return stage


def stage_dir(config, stage: ml_collections.ConfigDict | None = None) -> Path | None:
    """The run folder a run starts from: the given source model, its pretraining
    stage (`stage`: its resolved config; None: made from the stage file), or None."""
    if source_model_given(config):
        return Path(config.source_model)
    return pretrain_workdir(config, stage) if uses_stage(config) else None


def pretrain_workdir(config, stage: ml_collections.ConfigDict | None = None) -> Path:
    """The folder of `config`'s pretraining stage: one per stage config (the
    stage file's settings with this run's data, model, seed and steps), shared by
    every run that starts from it, under `train.pretrain_cache` (empty: `models/`
    in the data dir). `stage`: the resolved stage config (None: made from the file)."""
    stage = stage if stage is not None else stage_config(config)
    root = config.train.pretrain_cache or paths.resolve_data_dir(config.data.data_dir) / "models"
    key = hashlib.sha256(config_lib.identity_json(stage).encode()).hexdigest()[:12]
    d = stage.data
    corpora = d.source if d.target == d.source else f"{d.source}-{d.target}"
    return Path(root) / f"{stage.method}-{corpora}-{d.label_space}-seed{stage.seed}-{key}"


# what a given source model must share with the run that adapts it
SOURCE_MODEL_KEYS = (
    "data.label_space",
    "data.features",
    "data.n_mels",
    "data.sample_rate",
    "data.normalization",
    "data.crop_seconds",
    "model",
)


def check_source_model(config) -> None:
    """`config.source_model` is a run folder with a checkpoint, of this task's
    classes (and label mapping), label space, features and model; else a
    ConfigError naming what differs."""
    where = f"config.source_model={config.source_model}"
    try:
        saved = run_folder.read_config(Path(config.source_model))
    except (FileNotFoundError, files.DamagedFile) as e:
        raise ConfigError(f"{where}: {e}") from None
    if not run_folder.has_checkpoint(Path(config.source_model)):
        raise ConfigError(f"{where}: no checkpoint in {config.source_model}")

    def get(c, key):
        for part in key.split("."):
            c = c.get(part) if c is not None else None
        return json.loads(json.dumps(c))  # tuples and the lists config.json holds compare equal

    keys = [k for k in SOURCE_MODEL_KEYS if k != "model"]
    keys += [f"model.{k}" for k in sorted(config.model)]
    differ = [
        f"{key} ({get(saved, key)!r} there, {get(config, key)!r} here)"
        for key in keys
        if get(saved, key) != get(config, key)
    ]
    theirs = tasks.mapping(tasks.from_config(saved))
    ours = tasks.mapping(tasks.from_config(config))
    if theirs != ours:
        differ.append(f"classes ({dict(theirs)} there, {dict(ours)} here)")
    if differ:
        raise ConfigError(
            f"{where} is not a model for this task; it differs in: " + "; ".join(differ)
        )


# what results.json keeps of the run a run started from
SUMMARY_KEYS = ("uar", "war", "macro_f1", "pred_balance")


def before_adaptation(exp, source_model: Path) -> dict:
    """The source model's figures on this run's target test utterances."""
    state = checkpoints.start_from(exp.state, source_model, strict=True)
    results, _ = loop.evaluate(exp, jax.device_put(state, parallel.replicated(exp.mesh)))
    r = results["classification"]
    return {k: r[k] for k in SUMMARY_KEYS} | {"from": str(source_model)}


def stage_summary(workdir: Path) -> dict:
    """The stage's figures on the target, and where it lives."""
    r = run_folder.read_results(workdir)
    return {k: r[k] for k in SUMMARY_KEYS} | {"from": str(workdir)}
