import json
import subprocess
import sys

import pytest

from jaxser import config as config_lib
from jaxser import experiment, methods

CONFIGS = list(methods.METHODS)  # every method has configs/<name>.py


@pytest.mark.parametrize("name", CONFIGS)
def test_configs_load_and_default_to_the_synthetic_pair(name):
    c = config_lib.load(f"configs/{name}.py")
    assert c.method == name and (c.data.source, c.data.target) == ("synth_emodb", "synth_casia")
    # Emo-DNA runs on its paper's protocol (binary arousal); the others on shared emotions
    assert c.data.label_space == ("arousal" if name == "emodna" else "categorical")
    for key in ("seed", "data.classes", "data.data_dir", "train.steps", "train.batch_size"):
        node = c
        for part in key.split("."):
            node = node[part]
    experiment.check(c)
    if methods.is_source_free(name):  # the source is gone: no source term, a stage instead
        assert all(e.fn != "cross_entropy" for e in c.terms.values())
        assert c.train.pretrain == "source_model.py" and c.source_model == ""
        return
    # DIDAN's regression, MSAC's AM-softmax
    source_term = {"didan": "reg", "lidan": "reg", "msac": "am"}.get(name, "cls")
    assert c.terms[source_term].weight == 1.0


def test_overrides_are_typed():
    c = config_lib.load(
        "configs/dann.py",
        [
            "train.steps=7",
            "terms.adv.weight=0.5",
            "data.balanced=true",
            "model.channels=(8,16)",
            "data.classes=angry,sad",
        ],
    )
    assert (c.train.steps, c.terms.adv.weight, c.data.balanced) == (7, 0.5, True)
    assert tuple(c.model.channels) == (8, 16) and c.data.classes == "angry,sad"


def test_unknown_key_lists_known_keys():
    with pytest.raises(
        config_lib.ConfigError,
        match=r"'train.stepz'.*known keys under train:.*"
        r"'steps'",
    ):
        config_lib.load("configs/dann.py", ["train.stepz=3"])
    with pytest.raises(config_lib.ConfigError, match="known keys: .*'train'"):
        config_lib.load("configs/dann.py", ["trian.steps=3"])


def check(path, *overrides):
    """The file's own defaults: what a check refuses must not hang on a frozen setting."""
    experiment.check(config_lib.load(path, list(overrides), frozen=False))


def test_unknown_method_and_loss_names_list_the_known_ones():
    with pytest.raises(config_lib.ConfigError, match="config.method='danm'; known: .*'dann'"):
        check("configs/dann.py", "method=danm")
    with pytest.raises(config_lib.ConfigError, match="unknown loss function.*known: .*'coral'"):
        check("configs/dann.py", "terms.adv.fn=adversarail")
    with pytest.raises(config_lib.ConfigError, match="expected true/false"):
        check("configs/dann.py", "data.balanced=maybe")
    with pytest.raises(config_lib.ConfigError, match=r"backbone='resnet'; known: \['auto', 'cnn'"):
        check("configs/dann.py", "model.backbone=resnet")
    with pytest.raises(config_lib.ConfigError, match=r"unknown evaluator.*\['nope'\].*'source'"):
        check("configs/dann.py", "train.evaluators=nope")


def test_term_options_are_checked_against_their_function():
    # a term's options are its function's keyword options; ablation = weight 0
    c = config_lib.load("configs/emodna.py", ["terms.cd.temperature=0.2", "terms.adv.weight=0"])
    experiment.check(c)
    assert c.terms.cd.temperature == 0.2
    terms = methods.build(c, ("angry", "sad"), 10).terms
    assert "adv" not in terms and terms["cd"].options == {"temperature": 0.2}
    # switching a term's function keeps the options it does not take: refused, listed
    with pytest.raises(
        config_lib.ConfigError,
        match=r"terms.cd: 'orthogonality' has no option \['temperature'\]; its options: \[\]",
    ):
        check("configs/emodna.py", "terms.cd.fn=orthogonality")
    with pytest.raises(config_lib.ConfigError, match=r"its options: \['kernel_mul', 'kernels'\]"):
        c = config_lib.load("configs/mmd.py")
        with c.unlocked():
            c.terms.mmd.bandwidth = 1.0
        experiment.check(c)
    with pytest.raises(config_lib.ConfigError, match=r"schedule='rmp' is not a schedule.*'ramp'"):
        check("configs/mmd.py", "terms.mmd.schedule=rmp")
    with pytest.raises(config_lib.ConfigError, match=r"kind='sigmod' is unknown; known: .*sigmoid"):
        check("configs/dann.py", "schedules.grl.kind=sigmod")
    with pytest.raises(config_lib.ConfigError, match="every loss term has weight 0"):
        check("configs/source_only.py", "terms.cls.weight=0")


@pytest.mark.parametrize(
    "override, message",
    [
        ("didan.scores=bogus", r"config.didan.scores='bogus'; known: \['output', 'softmax'\]"),
        ("terms.ida.layer=fc4", r"config.terms.ida.layer='fc4'; known: \['fc1', 'fc2', 'fc3'\]"),
        ("terms.reg.fn=cross_entropy", "set --config.didan.scores=softmax"),
        ("emodna.threshold=softmatch", "known: .*freematch"),
        ("train.lr_multipliers=classifier", "regex=multiplier"),
        ("data.protocol=lopo", r"unknown config.data.protocol='lopo'.*'loso'"),
        ("data.label_space=dominance", r"unknown label space 'dominance'; known: .*'valence'"),
        ("data.arousal_high=angry,angry", r"arousal high names \['angry'\] twice"),
        ("data.arousal_low=angry,sad", r"\['angry'\] are in both halves \(high and low\)"),
        ("data.arousal_high=angry,joy", r"unknown emotion\(s\) \['joy'\]; known emotions"),
        ("data.classes=angry,sad", r"apply to the categorical label space only"),
        ("data.target=synth_casa", r"config.data: unknown corpus 'synth_casa'; known corpora: .*"),
        ("data.classes=angry,boredom", r"classes \['boredom'\] are not shared by synth_emodb"),
    ],
)
def test_bad_values_fail_in_one_line_before_the_workdir(tmp_path, override, message):
    arousal = ("emodna", "data.arousal", "data.classes=angry,sad")  # Emo-DNA config: arousal
    path = "configs/emodna.py" if override.startswith(arousal) else "configs/didan.py"
    with pytest.raises(config_lib.ConfigError, match=message) as e:
        check(path, override)
    assert "\n" not in str(e.value)
    # the CLI, in this process (another exception than the one-line exit fails the test)
    from jaxser import train

    with pytest.raises(SystemExit) as exit_:
        train.main(["--config", path, f"--workdir={tmp_path / 'w'}", f"--config.{override}"])
    assert str(exit_.value).startswith("error: ") and "\n" not in str(exit_.value)
    assert not (tmp_path / "w").exists()


def test_unknown_config_file_lists_configs():
    with pytest.raises(config_lib.ConfigError, match="dann.py"):
        config_lib.load("configs/nope.py")


def test_every_config_file_is_a_method_and_every_method_has_one():
    from pathlib import Path

    files = {p.stem for p in Path("configs").glob("*.py")} - {"base", "__init__"}
    assert set(CONFIGS) <= files  # configs/<method>.py for every method
    for variant in files - set(CONFIGS):  # others (msac_ce.py) are a method's variants
        assert config_lib.load(f"configs/{variant}.py").method in CONFIGS


@pytest.mark.parametrize("name", ["dann", "msac"])
def test_a_config_saved_before_keys_were_added_loads_with_their_defaults(name):
    config = config_lib.load(f"configs/{name}.py", ["model.residual=False"], frozen=False)
    saved = json.loads(config_lib.to_json(config))
    for (section, key), default in config_lib.ADDED_KEYS.items():
        if section not in saved:  # a method's own section (msac): only its configs
            continue
        assert config[section][key] == default  # the default before the key existed
        del saved[section][key]
    old = config_lib.from_json(json.dumps(saved))
    assert config_lib.diff(old, config) == []  # an older run folder resumes


# Issue "tables that cannot be silently wrong": configs a run cannot work with are
# refused by `check`, before any data is read or any file written.
@pytest.mark.parametrize(
    "override, message",
    [
        ("train.steps=-5", r"train.steps=-5 must be > 0"),
        ("train.steps=0", r"train.steps=0 must be > 0"),
        ("train.learning_rate=-0.01", r"train.learning_rate=-0.01 must be >= 0"),
        ("terms.adv.weight=-0.5", r"terms.adv.weight=-0.5 is negative"),
        ("train.eval_every=0", r"train.eval_every=0 must be > 0"),
        ("train.checkpoint_every=0", r"train.checkpoint_every=0 must be > 0"),
        ("train.log_every=0", r"train.log_every=0 must be > 0"),
        ("train.batch_size=0", r"train.batch_size=0 must be > 0"),
        ("train.batch_size=-8", r"train.batch_size=-8 must be > 0"),
        ("data.target=synth_emodb", r"both synth_emodb: the test utterances would be training"),
        ("train.pretrain=configs/source_only.py", r"stage of train.pretrain_steps=0 steps"),
    ],
)
def test_numbers_and_tasks_a_run_cannot_work_with_are_refused(override, message):
    with pytest.raises(config_lib.ConfigError, match=message):
        check("configs/dann.py", override)


def test_one_corpus_is_a_task_only_under_loso_and_for_a_source_models_own_stage():
    check("configs/dann.py", "data.target=synth_emodb", "data.protocol=loso")
    check("configs/source_model.py", "data.target=synth_emodb")  # reads no target
    stage = experiment.check(config_lib.load("configs/shot.py"))
    assert (stage.method, stage.data.source, stage.data.target) == (
        "source_model",
        "synth_emodb",
        "synth_emodb",
    )


def test_the_train_cli_refuses_bad_numbers_before_the_workdir_is_touched(tmp_path, capsys):
    from jaxser import train

    workdir = tmp_path / "run"
    for bad in ("--config.train.steps=-5", "--config.train.log_every=0"):
        with pytest.raises(SystemExit, match=r"error: config.train.*must be > 0"):
            train.main(["--config", "configs/source_only.py", "--workdir", str(workdir), bad])
    assert not workdir.exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit, match=r"--workdir .*file is a file, not a folder"):
        train.main(["--config", "configs/source_only.py", "--workdir", str(tmp_path / "file")])


def test_a_config_path_into_another_folder_never_falls_back_to_the_bundled_one(tmp_path):
    with pytest.raises(config_lib.ConfigError, match=r"'myexp/dann.py' not found \(no such"):
        config_lib.load("myexp/dann.py")
    with pytest.raises(config_lib.ConfigError, match="not found"):
        config_lib.load(str(tmp_path / "dann.py"))
    # a bare name and configs/<name> still find the bundled config from anywhere
    assert config_lib.resolve_file("dann.py") == config_lib.CONFIGS_DIR / "dann.py"
    assert (
        config_lib.resolve_file("configs/dann.py").read_text()
        == (config_lib.CONFIGS_DIR / "dann.py").read_text()
    )


def test_broken_config_files_and_overrides_fail_in_one_line(tmp_path):
    bad = tmp_path / "syntax.py"
    bad.write_text("def get_config(:\n    pass\n")
    with pytest.raises(config_lib.ConfigError, match=r"syntax.py, line 1: syntax error"):
        config_lib.load(str(bad))
    none = tmp_path / "none.py"
    none.write_text("X = 1\n")
    with pytest.raises(config_lib.ConfigError, match=r"none.py has no get_config\(\)"):
        config_lib.load(str(none))
    with pytest.raises(config_lib.ConfigError, match=r"model.channels: cannot read '\(16,'"):
        config_lib.load("configs/dann.py", ["model.channels=(16,"])


def test_cli_fails_in_one_line_before_any_work_and_debug_shows_the_traceback(tmp_path):
    args = [sys.executable, "-m", "jaxser.train", "--config", "configs/dann.py",
            f"--workdir={tmp_path / 'w'}", "--config.train.stepz=3"]  # fmt: skip
    plain = subprocess.run(args, capture_output=True, text=True)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.startswith("error: unknown config key 'train.stepz'; known keys under")
    assert len(plain.stderr.strip().splitlines()) == 1
    debug = subprocess.run([*args, "--debug"], capture_output=True, text=True)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert "jaxser.config.ConfigError: unknown config key 'train.stepz'" in debug.stderr
    assert not (tmp_path / "w").exists()


def test_a_bug_below_check_is_not_turned_into_a_config_error(monkeypatch):
    """Only the errors a user can fix are ConfigErrors: a KeyError from a bug in
    the task code surfaces as itself, with its traceback."""
    from jaxser.data import tasks

    def broken(task):
        return {}["oops"]

    monkeypatch.setattr(tasks, "mapping", broken)
    with pytest.raises(KeyError, match="oops"):
        check("configs/dann.py")


FROZEN_CONFIG = """
from configs import dann


def get_config():
    return dann.get_config()


def frozen():
    return {
        "valence": {"train.learning_rate": 0.002, "train.warmup_steps": 100},
        "categorical, loso": {"train.pretrain": "", "terms.adv.weight": 0.0},
    }
"""


def test_a_frozen_setting_applies_to_its_label_space_and_protocol_only(tmp_path):
    """`frozen()`: the config's own defaults, then the setting frozen for the label
    space and protocol the overrides give, then the overrides; `load_file` (a
    stage's config) keeps the file's own defaults."""
    path = tmp_path / "mine.py"
    path.write_text(FROZEN_CONFIG)
    own = config_lib.load(str(path))
    dann = config_lib.load("configs/dann.py", frozen=False)  # not dann.py's own frozen()
    assert own.to_dict() == dann.to_dict()  # categorical: nothing frozen in mine.py
    valence = config_lib.load(str(path), ["data.label_space=valence"])
    assert (valence.train.learning_rate, valence.train.warmup_steps) == (0.002, 100)
    plain = config_lib.load("configs/dann.py", ["data.label_space=valence"], frozen=False)
    assert config_lib.diff(valence, plain) == ["train.learning_rate", "train.warmup_steps"]
    mine = config_lib.load(str(path), ["data.label_space=valence", "train.learning_rate=0.005"])
    assert (mine.train.learning_rate, mine.train.warmup_steps) == (0.005, 100)  # overrides win
    loso = config_lib.load(str(path), ["data.protocol=loso", "data.target="])
    assert loso.terms.adv.weight == 0.0 and loso.train.pretrain == ""
    assert config_lib.load(str(path), ["data.protocol=loso"]).train.learning_rate == 1e-3
    assert config_lib.load_file(str(path)).to_dict() == own.to_dict()
    unfrozen = config_lib.load(str(path), ["data.label_space=valence"], frozen=False)
    assert unfrozen.to_dict() == plain.to_dict()  # the file's own defaults, on request
    assert config_lib.frozen_key("arousal", "transductive") == "arousal"
    assert config_lib.frozen_key("categorical", "loso") == "categorical, loso"


@pytest.mark.parametrize(
    "body, message",
    [
        (
            'def frozen():\n    return {"valence": {"train.nope": 1}}\n',
            "unknown config key 'train.nope'",
        ),
        ('def frozen():\n    return [("valence", {})]\n', r"frozen\(\) must return"),
    ],
)
def test_a_bad_frozen_setting_fails_in_one_line(tmp_path, body, message):
    path = tmp_path / "bad.py"
    path.write_text(FROZEN_CONFIG.split("def frozen")[0] + body)
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.load(str(path), ["data.label_space=valence"])


def test_the_train_cli_says_which_frozen_setting_a_run_takes(tmp_path, capsys, monkeypatch):
    from jaxser import train

    trained = []
    monkeypatch.setattr(
        experiment, "train", lambda config, *a, **k: trained.append(config) or {"interrupted_at": 0}
    )
    train.main(["--config", "configs/msac.py", "--workdir", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert "configs/msac.py: the setting frozen for categorical (its frozen()" in err
    assert "data.normalization=speaker" in err and "msac.control=orthogonal" in err
    assert trained[-1].data.normalization == "speaker"
    # --defaults: the file's own defaults, said by saying nothing frozen
    train.main(["--config", "configs/msac.py", "--workdir", str(tmp_path / "d"), "--defaults"])
    assert "frozen" not in capsys.readouterr().err
    assert trained[-1].to_dict() == config_lib.load("configs/msac.py", frozen=False).to_dict()
    assert trained[-1].data.normalization == "corpus"
    loso = ["--config.data.protocol=loso", "--config.data.target=", "--config.data.fold=0"]
    train.main(["--config", "configs/msac.py", "--workdir", str(tmp_path / "b"), *loso])
    assert "frozen for categorical, loso" in capsys.readouterr().err
    train.main(["--config", "configs/coral.py", "--workdir", str(tmp_path / "c")])
    assert "frozen" not in capsys.readouterr().err  # coral froze its defaults: nothing to say
