"""openSMILE features (`data.features=opensmile:<set>:<level>`): the package's
own numbers, the errors, and a run with predict on them."""

import numpy as np
import pytest
from conftest import SMALL
from fakes import wav
from tiny import tiny_config

opensmile = pytest.importorskip(
    "opensmile", reason='openSMILE features need the extra: pip install -e ".[opensmile]"'
)

from jaxser import config as config_lib  # noqa: E402
from jaxser import experiment, models, predict  # noqa: E402
from jaxser.data import features  # noqa: E402

FUNCTIONALS = "opensmile:eGeMAPSv02:functionals"


@pytest.mark.parametrize(
    "kind, level, dim",
    [(FUNCTIONALS, "Functionals", 88), ("opensmile:IS09:lld", "LowLevelDescriptors", 16)],
)
def test_features_equal_the_opensmile_package_on_the_same_file(tmp_path, kind, level, dim):
    path = wav(tmp_path / "a.wav", seconds=1.5, rate=16000)
    config = features.FeatureConfig(kind=kind)
    ours = features.featurize(str(path), config)
    feature_set = kind.split(":")[1]
    smile = opensmile.Smile(opensmile.FeatureSet[feature_set], opensmile.FeatureLevel[level])
    theirs = smile.process_file(str(path)).to_numpy(np.float32)
    assert config.dim == dim and ours.shape == theirs.shape
    assert ours.shape[0] == 1 if config.per_utterance else ours.shape[0] > 100
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.features=opensmile:IS14:functionals"], r"unknown openSMILE set 'IS14'; known: \["),
        (["data.features=opensmile:IS09:frames"], r"unknown openSMILE level 'frames'; known: "),
        (["data.features=opensmile:IS09"], r"opensmile:<set>:<level>"),
        (["data.features=wav2vec"], r"unknown feature kind 'wav2vec'"),
        (
            [f"data.features={FUNCTIONALS}", "model.backbone=cnn"],
            r"one vector per utterance, not a spectrogram: the 'cnn' backbone cannot read them",
        ),
        (["data.features=opensmile:IS09:lld", "model.backbone=timnet"], r"gives frame vectors"),
    ],
)
def test_a_bad_feature_kind_or_a_backbone_that_cannot_read_it_fails_in_check(overrides, message):
    config = config_lib.load("configs/dann.py", overrides)
    with pytest.raises(config_lib.ConfigError, match=message):
        experiment.check(config)


def test_a_run_on_functionals_and_predict_on_new_audio(small_data_dir, tmp_path):
    from jaxser.data import store

    kind = features.FeatureConfig(kind=FUNCTIONALS)
    for name, texts in SMALL.items():
        store.prepare(name, data_dir=small_data_dir, config=kind, workers=1, synth_max_texts=texts)
    own = (f"data.features={FUNCTIONALS}", "model.mlp_features=16")
    config = tiny_config("source_only", small_data_dir, *own)
    assert experiment.crop_frames(config) == 1 and models.backbone_name(config) == "mlp"
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert r["steps"] == 4 and np.isfinite(r["uar"])
    clip = wav(tmp_path / "clips" / "b.wav", seconds=1.0)
    out = predict.predict_files(tmp_path / "run", [str(clip)])
    (p,) = out["predictions"]
    assert p["prediction"] in out["classes"]
    assert sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
