"""A run folder's own files, read as data: `config.json` (the resolved config),
`stage.json` (the resolved config of its pretraining stage), `normalization.json`
(each corpus's feature statistics), and the run's identity.

A run folder is data: it may come from a colleague, a cluster or a download.
Nothing here imports a file a run folder names; a run that starts from a stage
saved that stage's resolved config when it trained, and restoring reads that.
Writes are atomic (`jaxser.files`) and made by the lead process only. Reading
needs no JAX (the sweep's tables read run folders).
"""

import hashlib
import sys
from pathlib import Path

import ml_collections

from jaxser import config as config_lib
from jaxser import files
from jaxser.config import ConfigError

CONFIG = "config.json"
STAGE = "stage.json"
NORMALIZATION = "normalization.json"
RESULTS = "results.json"
CHECKPOINTS = "checkpoints"
SWEEP = "sweep.json"  # what `python -m jaxser.sweep` ran here (draw, setting, wall time)
CONFIG_KEYS = ("method", "seed", "data", "model", "train", "terms")  # of every config.json


class NoRun(FileNotFoundError):
    """A folder that holds no run (or no checkpoint of one)."""


def config_hash(config, stage=None) -> str:
    """The identity of a run: the hash of its resolved config and its stage's
    (what it trains on, how, from what). Recorded in results.json."""
    text = config_lib.identity_json(config)
    text += config_lib.identity_json(stage) if stage is not None else ""
    return hashlib.sha256(text.encode()).hexdigest()


def has_checkpoint(workdir: Path) -> bool:
    """Whether `workdir` holds at least one checkpoint (of a run that trained)."""
    return any((Path(workdir) / CHECKPOINTS).glob("*"))


def _lead() -> bool:
    from jaxser import parallel  # JAX: only where a run writes

    return parallel.is_lead()


def saved_hash(workdir: Path) -> str:
    """The `config_hash` of the run saved in `workdir` (its config.json and stage.json)."""
    return config_hash(read_config(workdir), _saved_stage(Path(workdir)))


def _saved_stage(workdir: Path) -> ml_collections.ConfigDict | None:
    """The content of `<workdir>/stage.json`, None without one."""
    path = workdir / STAGE
    return config_lib.from_dict(files.read_json(path)) if path.is_file() else None


def check_folder(workdir: Path, what: str = "--workdir") -> None:
    """ConfigError if `workdir` exists and is not a folder."""
    if Path(workdir).exists() and not Path(workdir).is_dir():
        raise ConfigError(f"{what} {workdir} is a file, not a folder: name a folder")


def read_config(workdir: Path) -> ml_collections.ConfigDict:
    """The config of the run in `workdir` (NoRun if it holds none)."""
    path = Path(workdir) / CONFIG
    if not path.is_file():
        raise NoRun(f"{workdir} holds no run (no {CONFIG})")
    d = files.read_json(path, "the run folder is damaged: train the run again in a new folder")
    missing = [k for k in CONFIG_KEYS if not isinstance(d, dict) or k not in d]
    if missing:
        raise files.DamagedFile(f"{path} is not a jaxser config (no {', '.join(missing)})")
    return config_lib.from_dict(d)


def read_stage(workdir: Path, config) -> ml_collections.ConfigDict:
    """The resolved config of the pretraining stage the run in `workdir` started
    from (for a run that has one): from `stage.json`; for a run saved before runs
    kept it, from the stage's own run folder named in its results.json
    (`before_adaptation.from`). Never by importing the file `train.pretrain` names."""
    workdir = Path(workdir)
    if (stage := _saved_stage(workdir)) is not None:
        return stage
    start = None
    if (workdir / RESULTS).is_file():
        start = read_results(workdir).get("before_adaptation", {}).get("from")
    if start and (Path(start) / CONFIG).is_file():
        return read_config(Path(start))
    raise ConfigError(
        f"{workdir} starts from the stage {config.train.pretrain!r} but holds no {STAGE} "
        "(a run saved before runs kept their stage's config): jaxser does not import "
        "config files a run folder names; train the run again to evaluate it"
    )


def claim(workdir: Path, config, stage=None) -> None:
    """Writes config.json (and stage.json), or checks that `workdir` holds a run of
    this config: a different one is refused naming the keys that differ, unless
    the folder holds no checkpoint yet (nothing trained: the new config takes it)."""
    workdir = Path(workdir)
    if (workdir / CONFIG).exists():
        differ = config_lib.diff(read_config(workdir), config)
        saved_stage = _saved_stage(workdir) if stage is not None else None
        if not differ and saved_stage is not None:
            differ = [f"stage: {k}" for k in config_lib.diff(saved_stage, stage)]
        if not differ:
            if stage is not None and _lead():  # a run saved before stage.json
                files.write_text(workdir / STAGE, config_lib.to_json(stage))
            return
        if has_checkpoint(workdir):
            raise ConfigError(
                f"{workdir} holds a run of a different config (keys that differ: {differ}); "
                "use another --workdir, or delete this one to start over"
            )
        print(f"{workdir}: no checkpoint yet, so this config replaces its config.json "
              f"(keys that differ: {differ})", file=sys.stderr)  # fmt: skip
    if not _lead():
        return
    workdir.mkdir(parents=True, exist_ok=True)
    if stage is not None:
        files.write_text(workdir / STAGE, config_lib.to_json(stage))
    else:
        (workdir / STAGE).unlink(missing_ok=True)
    files.write_text(workdir / CONFIG, config_lib.to_json(config))


def write_normalization(workdir: Path, stats: dict, features: dict | None = None) -> None:
    """`<workdir>/normalization.json`: each corpus's feature statistics (the
    feature settings and normalisation are in config.json), so that new audio is
    normalised as the run's corpora were without their prepared stores; and
    `features`: the store key and the content hash of an SSL checkpoint or array
    dir, so that predict refuses features from a checkpoint that changed."""
    if _lead():
        d = {"stats": stats} | ({"features": features} if features else {})
        files.write_json(Path(workdir) / NORMALIZATION, d, indent=None)


def read_features(workdir: Path) -> dict | None:
    """{"kind", "key", "source_identity"} the run's features were made with, or
    None when the run recorded none."""
    path = Path(workdir) / NORMALIZATION
    if not path.is_file():
        return None
    d = files.read_json(path, "rerun the run's training command to write it again")
    return d.get("features") if isinstance(d, dict) else None


def read_normalization(workdir: Path) -> dict | None:
    """corpus -> {"mean", "std"}, or None when the run recorded none."""
    path = Path(workdir) / NORMALIZATION
    if not path.is_file():
        return None
    d = files.read_json(path, "rerun the run's training command to write it again")
    if not isinstance(d, dict) or not isinstance(d.get("stats"), dict):
        raise files.DamagedFile(f"{path} holds no feature statistics ('stats')")
    return d["stats"]


def read_results(workdir: Path) -> dict:
    """A run's results.json (DamagedFile naming it if it does not parse)."""
    path = Path(workdir) / RESULTS
    r = files.read_json(path, "rerun the run (its checkpoints are kept) or delete the folder")
    if not isinstance(r, dict):
        raise files.DamagedFile(f"{path} is not a jaxser results file")
    return r
