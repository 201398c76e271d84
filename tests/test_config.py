import subprocess
import sys

import pytest

from jaxser import config as config_lib
from jaxser import methods

CONFIGS = list(methods.METHODS)  # every method has configs/<name>.py


@pytest.mark.parametrize("name", CONFIGS)
def test_configs_load_and_default_to_the_synthetic_pair(name):
    c = config_lib.load(f"configs/{name}.py")
    assert c.method == name and (c.data.source, c.data.target) == ("synth_emodb", "synth_casia")
    for key in ("seed", "data.classes", "data.data_dir", "train.steps", "train.batch_size"):
        node = c
        for part in key.split("."):
            node = node[part]
    source_term = "reg" if name in ("didan", "lidan") else "cls"  # DIDAN's regression
    assert c.loss_weights[source_term] == 1.0


def test_overrides_are_typed():
    c = config_lib.load(
        "configs/dann.py",
        [
            "train.steps=7",
            "loss_weights.adv=0.5",
            "data.balanced=true",
            "model.channels=(8,16)",
            "data.classes=angry,sad",
        ],
    )
    assert (c.train.steps, c.loss_weights.adv, c.data.balanced) == (7, 0.5, True)
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


def test_unknown_method_and_loss_names_list_the_known_ones():
    with pytest.raises(config_lib.ConfigError, match="unknown method 'danm'; known: .*'dann'"):
        config_lib.load("configs/dann.py", ["method=danm"])
    with pytest.raises(config_lib.ConfigError, match="unknown loss function.*known: .*'coral'"):
        config_lib.load("configs/dann.py", ["losses.adv=adversarail"])
    with pytest.raises(config_lib.ConfigError, match="expected true/false"):
        config_lib.load("configs/dann.py", ["data.balanced=maybe"])


def test_cli_fails_before_any_work(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "jaxser.train",
            "--config",
            "configs/dann.py",
            f"--workdir={tmp_path / 'w'}",
            "--config.train.stepz=3",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "known keys under train" in r.stderr
    assert not (tmp_path / "w").exists()


def test_unknown_config_file_lists_configs():
    with pytest.raises(config_lib.ConfigError, match="dann.py"):
        config_lib.load("configs/nope.py")


def test_every_config_file_is_a_method_and_every_method_has_one():
    from pathlib import Path

    files = {p.stem for p in Path("configs").glob("*.py")} - {"base", "__init__"}
    assert files == set(CONFIGS)
