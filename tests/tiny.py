"""Tiny configs for fast tests: small model, short crops, few steps, small data."""

from jaxser import config as config_lib

TINY = [
    "model.channels=(8,16)",
    "model.stem_channels=4",
    "model.convs_per_block=1",
    "model.bottleneck_dim=16",
    "model.discriminator_hidden=16",
    "model.compute_dtype=float32",  # numbers compared: "auto" is bfloat16 on a GPU
    "data.crop_seconds=1.0",
    "train.batch_size=8",
    "train.eval_batch_size=32",
    "train.steps=4",
    "train.pretrain_steps=2",
    "train.warmup_steps=1",
    "train.log_every=1",
    "train.eval_every=1000",
    "train.checkpoint_every=2",
]


# The first two steps of tiny dann (seed 0) on `batch.random()` in float32:
# tests/test_train.py checks them here, tools/device_check.py on an accelerator.
GOLDEN_DANN_STEPS = (
    {"loss/cls": 1.635242, "loss/adv": 0.686377, "grad_norm": 0.414685},
    {"loss": 2.334059},
)


def tiny_config(name: str, data_dir, *overrides: str):
    """A small config of configs/<name>.py at the file's own defaults (never its
    frozen setting: these tests exercise a method's mechanics, not its choice)."""
    return config_lib.load(
        f"configs/{name}.py", [*TINY, f"data.data_dir={data_dir}", *overrides], frozen=False
    )
