"""SSL embeddings (`data.features=ssl:<checkpoint dir>[:<layers>]`) from tiny,
randomly initialised checkpoints the tests save: the model's own hidden
states, the checkpoint's identity, the errors, and a run with predict."""

import json

import numpy as np
import pytest
from conftest import SMALL
from fakes import wav
from tiny import tiny_config

torch = pytest.importorskip("torch", reason='SSL features need the extra: pip install -e ".[ssl]"')
transformers = pytest.importorskip(
    "transformers", reason='SSL features need the extra: pip install -e ".[ssl]"'
)

import tiny_ssl  # noqa: E402  (tools/)

from jaxser import config as config_lib  # noqa: E402
from jaxser import experiment, models, predict  # noqa: E402
from jaxser.data import features, store  # noqa: E402


def save_checkpoint(folder, family: str, seed: int = 0):
    """A tiny random checkpoint of `family` with its feature extractor, as
    `save_pretrained` writes it (tools/tiny_ssl.py)."""
    return tiny_ssl.save(folder, family, seed)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("ssl")
    return {f: save_checkpoint(root / f, f) for f in tiny_ssl.FAMILIES}


def their_hidden_states(folder, wave16k):
    """The model's own `output_hidden_states` for a 16 kHz wave: [L + 1, T, D]."""
    extractor = transformers.AutoFeatureExtractor.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    inputs = extractor(wave16k, sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        if model.config.model_type == "whisper":  # the encoder, on its 30 s window
            out = model.get_encoder()(inputs.input_features, output_hidden_states=True)
        else:
            out = model(inputs.input_values, output_hidden_states=True)
    return np.stack([h[0].numpy() for h in out.hidden_states])


@pytest.mark.parametrize("family", list(tiny_ssl.FAMILIES))
def test_features_equal_the_models_own_hidden_states(checkpoints, tmp_path, family):
    import soxr

    path = wav(tmp_path / "a.wav", seconds=1.3, rate=22050)  # resampled to 16 kHz first
    wave16k = soxr.resample(features.decode(str(path))[0].mean(0), 22050, 16000)
    theirs = their_hidden_states(checkpoints[family], wave16k.astype(np.float32))
    frames = -(-len(wave16k) // 320)  # 50 a second (whisper: of its 1500, the audio's)
    if family == "whisper":
        theirs = theirs[:, :frames]
    assert theirs.shape == (3, frames if family == "whisper" else theirs.shape[1], 32)
    for layers, expect in [
        ("last", theirs[-1]),
        ("1", theirs[1]),
        ("all", theirs.transpose(1, 0, 2).reshape(theirs.shape[1], -1)),
    ]:
        config = features.FeatureConfig(kind=f"ssl:{checkpoints[family]}:{layers}")
        ours = features.featurize(str(path), config)
        assert ours.shape == expect.shape and config.dim == expect.shape[1]
        np.testing.assert_allclose(ours, expect, rtol=1e-5, atol=1e-5)
    assert config.layers == 3 and config.frames_per_second == 50


def test_a_checkpoint_is_identified_by_its_content_not_its_path(checkpoints, tmp_path):
    folder = save_checkpoint(tmp_path / "ckpt", "wav2vec2", seed=0)
    kind = f"ssl:{folder}"
    first = features.FeatureConfig(kind=kind).key()
    assert features.FeatureConfig(kind=kind).key() == first
    save_checkpoint(folder, "wav2vec2", seed=1)  # other weights, same folder
    assert features.FeatureConfig(kind=kind).key() != first
    assert (
        features.FeatureConfig(kind=kind + ":all").key() != features.FeatureConfig(kind=kind).key()
    )


def test_bad_checkpoints_fail_in_check_naming_what_to_do(checkpoints, tmp_path):
    not_speech = tmp_path / "bert"
    not_speech.mkdir()
    (not_speech / "config.json").write_text(json.dumps({"model_type": "bert"}))
    no_extractor = tmp_path / "bare"
    no_extractor.mkdir()
    (no_extractor / "config.json").write_text((checkpoints["wavlm"] / "config.json").read_text())
    for kind, message in [
        (f"ssl:{not_speech}", r"model_type 'bert' is not a supported speech encoder; supported: "
                              r"\['wav2vec2', 'hubert', 'wavlm', 'data2vec-audio', 'whisper'\]"),
        (f"ssl:{tmp_path / 'nowhere'}", r"nowhere not found \(moved or deleted\?\)"),
        (f"ssl:{tmp_path}", r"holds no config.json"),
        (f"ssl:{no_extractor}", r"no preprocessor_config.json .*save_pretrained"),
        (f"ssl:{checkpoints['wavlm']}:3", r"the model has hidden states 0-2"),
    ]:  # fmt: skip
        config = config_lib.load("configs/dann.py", [f"data.features={kind}"])
        with pytest.raises(config_lib.ConfigError, match=message):
            experiment.check(config)
    config = config_lib.load(
        "configs/dann.py", [f"data.features=ssl:{checkpoints['wavlm']}", "data.sample_rate=8000"]
    )
    with pytest.raises(config_lib.ConfigError, match=r"reads audio at 16000 Hz"):
        experiment.check(config)


def test_an_ssl_run_with_every_layer_and_predict(checkpoints, small_data_dir, tmp_path, capfd):
    folder = save_checkpoint(tmp_path / "w2v", "wav2vec2")
    kind = f"ssl:{folder}:all"
    config_f = features.FeatureConfig(kind=kind)
    for name, texts in SMALL.items():
        store.prepare(name, data_dir=small_data_dir, config=config_f, workers=2,
                      synth_max_texts=texts)  # fmt: skip
    assert "GiB on disk for" in capfd.readouterr().err  # every layer: the size, said first
    config = tiny_config("source_only", small_data_dir, f"data.features={kind}",
                         "model.frames_features=16")  # fmt: skip
    assert models.backbone_name(config) == "frames" and experiment.crop_frames(config) == 50
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert r["steps"] == 4 and np.isfinite(r["uar"])
    clip = wav(tmp_path / "clips" / "b.wav", seconds=1.0, rate=44100)
    (p,) = predict.predict_files(tmp_path / "run", [str(clip)])["predictions"]
    assert sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    save_checkpoint(folder, "wav2vec2", seed=3)  # the checkpoint changed since
    with pytest.raises(config_lib.ConfigError, match=rf"the SSL checkpoint of {kind} changed"):
        predict.predict_files(tmp_path / "run", [str(clip)])
    folder.rename(tmp_path / "moved")
    with pytest.raises(config_lib.ConfigError, match=rf"{folder} not found \(moved or deleted"):
        predict.predict_files(tmp_path / "run", [str(clip)])
