"""The frame backbone: layer-weighted sum, masked pooling, runs, and the identity
of runs saved before its config keys existed."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, run_folder
from jaxser.models.frames import (
    FrameBackbone,
    layer_weighted_sum,
    masked_softmax_pool,
    unstack_layers,
)
from jaxser.models.mlp import MLPBackbone


def test_layer_weighted_sum_with_one_hot_weights_is_that_layer():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 7, 4, 5)), jnp.float32)
    for layer in range(4):
        logits = jnp.full((4,), -jnp.inf).at[layer].set(0.0)
        np.testing.assert_array_equal(layer_weighted_sum(x, logits), x[:, :, layer])
    np.testing.assert_allclose(layer_weighted_sum(x, jnp.zeros(4)), x.mean(2), rtol=1e-6)


def test_frames_holding_layers_side_by_side_split_into_those_layers():
    """The stored layout of every SSL layer ([T, (L+1) * D], `ssl:<dir>:all`): a
    backbone whose layer weights are one-hot computes what it computes on that
    layer alone."""
    r = np.random.default_rng(3)
    layers = [jnp.asarray(r.normal(size=(2, 6, 5)), jnp.float32) for _ in range(3)]
    stacked = jnp.concatenate(layers, axis=-1)  # [B, T, 3 * 5]
    np.testing.assert_array_equal(unstack_layers(stacked, 3)[:, :, 1], layers[1])
    mask = jnp.ones((2, 6), bool)
    for module in (FrameBackbone(8, layers=3), MLPBackbone(8, layers=3)):
        v = module.init(jax.random.key(0), stacked, mask, train=False)
        one = module.clone(layers=1)
        params = {k: w for k, w in v["params"].items() if k != "layer_logits"}
        logits = jnp.full((3,), -jnp.inf).at[2].set(0.0)
        mixed = module.apply({"params": params | {"layer_logits": logits}}, stacked, mask,
                             train=False)  # fmt: skip
        np.testing.assert_allclose(mixed, one.apply({"params": params}, layers[2], mask,
                                                    train=False), rtol=1e-6)  # fmt: skip


def test_pooling_reads_only_valid_frames():
    r = np.random.default_rng(1)
    x = jnp.asarray(r.normal(size=(2, 6, 3)), jnp.float32)
    mask = jnp.asarray([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    mean = masked_softmax_pool(x, jnp.zeros((2, 6)), mask)
    np.testing.assert_allclose(mean[0], x[0, :3].mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(mean[1], x[1].mean(0), rtol=1e-6, atol=1e-7)
    scores = jnp.asarray(r.normal(size=(2, 6)), jnp.float32)
    pooled = masked_softmax_pool(x, scores, mask)
    w = np.exp(scores[0, :3]) / np.exp(scores[0, :3]).sum()
    np.testing.assert_allclose(pooled[0], (w[:, None] * x[0, :3]).sum(0), rtol=1e-5, atol=1e-7)
    garbage = x.at[0, 3:].set(1e6)  # padding frames change nothing
    np.testing.assert_allclose(masked_softmax_pool(garbage, scores, mask), pooled, rtol=1e-6)
    empty = masked_softmax_pool(x, scores, jnp.zeros((2, 6), bool))
    np.testing.assert_array_equal(empty, 0.0)


@pytest.mark.parametrize("layers", [1, 4])
def test_backbone_shapes_frames_or_layers_and_starts_as_the_mean(layers):
    x = jnp.asarray(np.random.default_rng(2).normal(size=(3, 20, 16 * layers)), jnp.float32)
    mask = jnp.ones((3, 20), bool).at[0, 10:].set(False)
    attentive = FrameBackbone(8, "attentive", layers=layers)
    mean = FrameBackbone(8, "mean", layers=layers)
    v = attentive.init(jax.random.key(0), x, mask, train=False)
    assert ("layer_logits" in v["params"]) == (layers > 1)
    out = attentive.apply(v, x, mask, train=False)
    assert out.shape == (3, 8)
    params = {k: w for k, w in v["params"].items() if k != "attention"}
    np.testing.assert_allclose(out, mean.apply({"params": params}, x, mask, train=False), 1e-6)
    frames, frame_mask = FrameBackbone(8, pool=False, layers=layers).apply(v, x, mask, train=False)
    assert frames.shape == (3, 20, 8) and frame_mask is mask


@pytest.mark.parametrize("name", ["source_only", "msac"])
def test_tiny_runs_with_the_frame_backbone(small_data_dir, tmp_path, name):
    config = tiny_config(name, small_data_dir, "model.backbone=frames", "model.frames_features=16")
    r = experiment.train(config, tmp_path, progress=False)
    assert r["steps"] == 4 and 0 <= r["uar"] <= 1
    assert np.isfinite(r["uar"])


def test_a_bad_pooling_is_refused_in_check():
    config = config_lib.load("configs/dann.py", ["model.frames_pooling=max"])
    with pytest.raises(config_lib.ConfigError, match=r"frames_pooling='max'; known: \['att"):
        experiment.check(config)


def test_keys_added_since_identities_keep_older_runs_identity(tmp_path):
    """A config saved before the frame and MLP backbones' keys existed (and with
    "cnn" where the default is now "auto") has the same identity as today's
    default; another value of one of them is another run."""
    today = tiny_config("dann", tmp_path)
    assert today.model.backbone == "auto"
    saved = today.to_dict()
    for section, key in config_lib.NEW_SINCE_IDENTITY:
        del saved[section][key]
    saved["model"]["backbone"] = "cnn"
    older = config_lib.from_dict(saved)  # read back as a run folder is: defaults filled
    assert older.model.frames_pooling == "attentive"
    assert run_folder.config_hash(older) == run_folder.config_hash(today)
    assert config_lib.diff(older, today) == []
    other = tiny_config("dann", tmp_path, "model.frames_pooling=mean")
    assert run_folder.config_hash(other) != run_folder.config_hash(today)
    assert config_lib.diff(today, other) == ["model.frames_pooling"]
    lld = tiny_config("dann", tmp_path, "data.features=opensmile:IS09:lld")
    assert json.loads(config_lib.identity_json(lld))["model"]["backbone"] == "auto"
