"""Configs: Python files with `get_config()`, overrides `--config.a.b=value`, JSON.

Every config is locked: an override of a key the config does not have fails,
naming the known keys at that level. What the values mean (names of methods,
loss functions, backbones, ...) is checked by `jaxser.experiment.check`,
before any work starts.
"""

import ast
import importlib.util
import inspect
import json
import sys
from pathlib import Path

import ml_collections

# Where `configs/*.py` live when a config names another by a relative path.
CONFIGS_DIR = Path(__file__).resolve().parents[1] / "configs"


class ConfigError(ValueError):
    """A config key, value or name the user can fix."""


def resolve_file(path: str) -> Path:
    """The file `path` names; a bundled config (`dann.py`, `configs/dann.py`) is
    also found from another working directory, but a path into any other folder
    must exist: `myexp/dann.py` never falls back to the bundled `dann.py`."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    bundled = p.parent in (Path("."), Path("configs"))
    if bundled and (CONFIGS_DIR / p.name).is_file():
        return CONFIGS_DIR / p.name
    known = sorted(q.name for q in CONFIGS_DIR.glob("*.py") if q.name != "__init__.py")
    if not bundled:
        raise ConfigError(f"config file {path!r} not found (no such file)")
    raise ConfigError(f"config file {path!r} not found; configs in {CONFIGS_DIR}: {known}")


def load_module(path: str):
    """A config file imported as a module. Only for files the user names; a
    config read from a run folder is JSON (`from_json`), never a file to import."""
    p = resolve_file(path).resolve()
    if str(p.parents[1]) not in sys.path:  # configs import `configs.base`
        sys.path.insert(0, str(p.parents[1]))
    spec = importlib.util.spec_from_file_location(f"jaxser_config_{p.stem}", p)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ConfigError(f"config file {p}, line {e.lineno}: syntax error: {e.msg}") from e
    return module


def load_file(path: str) -> ml_collections.ConfigDict:
    """The config of a config file: imports it and calls its `get_config()` (its
    own defaults, no frozen setting: `load` applies those)."""
    return _config_of(load_module(path), path)


def _config_of(module, path: str) -> ml_collections.ConfigDict:
    p = resolve_file(path).resolve()
    if not callable(getattr(module, "get_config", None)):
        raise ConfigError(f"config file {p} has no get_config() function returning the config")
    config = module.get_config()
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(
            f"config file {p}: get_config() returned {type(config).__name__}, "
            "not an ml_collections.ConfigDict"
        )
    config.lock()
    return config


def names(text: str) -> tuple[str, ...]:
    """The comma-separated names of a config string ("" -> none)."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


def keyword_options(fn) -> dict:
    """The options a config entry may give `fn`: its keyword-only parameters and
    their defaults."""
    return {
        p.name: p.default
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def check_options(where: str, name: str, fn, entry, reserved: tuple[str, ...]) -> None:
    """Fails if `entry` (a config dict for `fn`, called `name`) has a key that is
    neither in `reserved` nor one of `fn`'s keyword options, listing those."""
    known = keyword_options(fn)
    unknown = set(entry) - set(reserved) - set(known)
    if unknown:
        raise ConfigError(
            f"{where}: {name!r} has no option {sorted(unknown)}; its options: {sorted(known)}"
        )


def _parse(old, text: str, key: str):
    if isinstance(old, bool):
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ConfigError(f"--config.{key}: expected true/false, got {text!r}")
    try:
        if isinstance(old, int):
            return int(text)
        if isinstance(old, float):
            return float(text)
        if isinstance(old, tuple | list):
            value = ast.literal_eval(text) if text.strip()[:1] in "([" else text.split(",")
            return tuple(type(old[0])(v) for v in value) if old else tuple(value)
    except (ValueError, SyntaxError, TypeError) as e:
        raise ConfigError(f"--config.{key}: cannot read {text!r} as {type(old).__name__}") from e
    return text


def override(config: ml_collections.ConfigDict, key: str, text: str) -> None:
    """Sets `config.<key>` (dotted) from a command-line string, typed like the default."""
    *parents, leaf = key.split(".")
    node, path = config, []
    for part in parents:
        if part not in node or not isinstance(node[part], ml_collections.ConfigDict):
            raise ConfigError(
                f"unknown config key {'.'.join(path + [part])!r}; known keys"
                f"{' under ' + '.'.join(path) if path else ''}: {sorted(node.keys())}"
            )
        node, path = node[part], path + [part]
    if leaf not in node or isinstance(node[leaf], ml_collections.ConfigDict):
        raise ConfigError(
            f"unknown config key {key!r}; known keys"
            f"{' under ' + '.'.join(path) if path else ''}: {sorted(node.keys())}"
        )
    with node.unlocked():
        node[leaf] = _parse(node[leaf], text, key)


def frozen_key(label_space: str, protocol: str) -> str:
    """Where a config's `frozen()` keeps the setting of a label space and
    protocol: "arousal", "categorical" (cross-corpus, transductive),
    "categorical, loso", ..."""
    return label_space if protocol == "transductive" else f"{label_space}, {protocol}"


def frozen_settings(module, path: str) -> dict[str, dict]:
    """A config file's frozen settings: its `frozen()`, {frozen_key: {config key:
    value}}, the settings its method's search chose on the development tasks
    (docs/design.md, "Protocol"; tools/freeze.py writes them: per label space
    and protocol, the draw a named rule ranks best over the development cells,
    with the values its runs ran with; an empty entry keeps the file's
    defaults); {} if it declares none."""
    fn = getattr(module, "frozen", None)
    if fn is None:
        return {}
    settings = fn() if callable(fn) else None
    if not isinstance(settings, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in settings.items()
    ):
        raise ConfigError(
            f"config file {resolve_file(path)}: frozen() must return "
            '{"<label space>[, <protocol>]": {"<config key>": value}}'
        )
    return settings


def _apply(config: ml_collections.ConfigDict, overrides) -> ml_collections.ConfigDict:
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form --config.key=value")
        key, text = item.split("=", 1)
        override(config, key.removeprefix("--config.").removeprefix("config."), text)
    return config


def load(path: str, overrides: list[str] = (), frozen: bool = True) -> ml_collections.ConfigDict:
    """Config from file, with `a.b=value` overrides applied (keys and types checked).
    Where the file freezes a setting for the label space and protocol the config
    ends up with (`frozen_settings`), that setting comes first and the overrides
    after it: the config's own defaults, then what its search chose for this
    task, then what the command line says. `frozen=False`: the file's own
    defaults and the overrides only (what a search's draw 0 was before the freeze)."""
    return load_frozen(path, overrides, frozen)[0]


def load_frozen(
    path: str, overrides: list[str] = (), frozen: bool = True
) -> tuple[ml_collections.ConfigDict, dict]:
    """`load`'s config and the frozen setting it applied ({} if none), from one
    reading of the file."""
    module = load_module(path)
    config = _apply(_config_of(module, path), overrides)
    setting = frozen_settings(module, path).get(
        frozen_key(config.data.label_space, config.data.protocol)
    )
    if not setting or not frozen:
        return config, {}
    chosen = [f"{k}={v}" for k, v in setting.items()]
    return _apply(_config_of(module, path), [*chosen, *overrides]), setting


def to_json(config: ml_collections.ConfigDict) -> str:
    return json.dumps(config.to_dict(), indent=1, sort_keys=True, default=list)


# Keys that say where this machine keeps things, not what a run computes: left
# out of a run's identity (`identity_json`: its hash, the stage folder's key, the
# check that a workdir holds this config), so a run resumes with them changed.
MACHINE_KEYS = (("train", "compilation_cache"),)


def identity_json(config: ml_collections.ConfigDict) -> str:
    """`to_json` of `config` without its `MACHINE_KEYS`, without the keys of
    `NEW_SINCE_IDENTITY` that hold their default, and with `model.backbone="auto"`
    written as "cnn" for log-mel and MFCC (what it resolves to there, and the
    default of the runs saved before "auto")."""
    d = config.to_dict()
    model, data = d.get("model", {}), d.get("data", {})
    if model.get("backbone") == "auto" and data.get("features", "logmel") in ("logmel", "mfcc"):
        model["backbone"] = "cnn"  # what "auto" is for a spectrogram: the default before it
    for section, key in MACHINE_KEYS:
        d.get(section, {}).pop(key, None)
    for section, key in NEW_SINCE_IDENTITY:
        if d.get(section, {}).get(key, ADDED_KEYS[section, key]) == ADDED_KEYS[section, key]:
            d.get(section, {}).pop(key, None)
    return json.dumps(d, indent=1, sort_keys=True, default=list)


# Keys added to the base config after runs were saved without them: a saved
# config.json gets their default (the behaviour those runs had), so older run
# folders restore, evaluate, predict and resume.
ADDED_KEYS = {
    ("data", "fold"): 0,
    ("data", "ood_classes"): "",
    ("train", "odin_temperature"): 1000.0,
    ("train", "odin_epsilon"): 0.0014,
    ("model", "residual"): False,
    ("msac", "control"): "reversal",
    ("train", "compilation_cache"): "",
    ("model", "frames_features"): 256,
    ("model", "frames_pooling"): "attentive",
    ("model", "mlp_features"): 256,
    ("model", "mlp_layers"): 2,
    ("data", "source_val"): 0.0,
}
# Of those, the keys added after runs recorded their identity (`config_hash`):
# at their default (the behaviour of the runs saved before them) they are left
# out of `identity_json`, so those runs keep their hash and a sweep finds them.
NEW_SINCE_IDENTITY = (
    ("model", "frames_features"),
    ("model", "frames_pooling"),
    ("model", "mlp_features"),
    ("model", "mlp_layers"),
    ("data", "source_val"),
)


def from_json(text: str) -> ml_collections.ConfigDict:
    """A saved config (config.json), with the keys added since filled in."""
    return from_dict(json.loads(text))


def from_dict(d: dict) -> ml_collections.ConfigDict:
    """A config from its saved dict (config.json's content), with the keys added
    since filled in."""
    d = json.loads(json.dumps(d))  # a copy: the caller's dict stays as it was
    for (section, key), default in ADDED_KEYS.items():
        if section in d and key not in d[section]:
            d[section][key] = default
    config = ml_collections.ConfigDict(d)
    config.lock()
    return config


def diff(a: ml_collections.ConfigDict, b: ml_collections.ConfigDict) -> list[str]:
    """Dotted keys whose values differ (JSON-normalised, so tuples equal lists;
    `MACHINE_KEYS` left out)."""

    def flat(d, prefix=""):
        out = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    fa, fb = flat(json.loads(identity_json(a))), flat(json.loads(identity_json(b)))
    return sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))
