"""The generic training loop (DESIGN.md, trainer).

`TrainState` holds everything that changes in a step; `make_train_step` builds
the pure step (forward on source + target, weighted loss terms, optax update,
method-state update); `train` runs it jit-compiled over the "data" mesh with
the state donated, evaluates on the target, checkpoints with orbax (resuming
from the workdir), logs to metrics.jsonl + TensorBoard, and stops on a
non-finite loss with the last good checkpoint intact.

This module imports without TensorFlow: the data pipeline is imported inside
`train`, so the step can be benchmarked on in-memory batches anywhere.
"""

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import flax
import flax.struct
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import orbax.checkpoint as ocp
import tqdm

from jaxser import config as config_lib
from jaxser import methods, metrics, parallel
from jaxser.losses import grl_schedule
from jaxser.losses.terms import Context, as_scalar_and_aux
from jaxser.methods.base import Method


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the message names the step and the terms."""


class TrainState(flax.struct.PyTreeNode):
    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    method_state: Any

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def make_optimizer(config) -> optax.GradientTransformation:
    t = config.train
    schedule = optax.warmup_cosine_decay_schedule(
        0.0,
        t.learning_rate,
        t.warmup_steps,
        max(t.steps, t.warmup_steps + 1),
        end_value=0.01 * t.learning_rate,
    )
    if t.optimizer == "adam":
        opt = optax.adamw(schedule, weight_decay=t.weight_decay)
    else:
        opt = optax.chain(
            optax.add_decayed_weights(t.weight_decay),
            optax.sgd(schedule, momentum=t.momentum, nesterov=True),
        )
    return optax.chain(optax.clip_by_global_norm(t.grad_clip), opt)


def init_state(method: Method, tx, batch, seed: int) -> TrainState:
    """Parameters from the model's init on one source batch (only its shapes matter)."""
    x, mask = batch["source"]["x"], batch["source"]["mask"]
    variables = method.model.init(jax.random.key(seed), x, mask, train=False)
    params = variables["params"]
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        batch_stats=variables.get("batch_stats", {}),
        opt_state=tx.init(params),
        method_state=method.init_state(),
    )


def _split(tree, b: int):
    return jax.tree.map(lambda a: a[:b], tree), jax.tree.map(lambda a: a[b:], tree)


def make_train_step(method: Method, tx, config, classes: tuple[str, ...]):
    """The pure step: (state, batch) -> (state, metrics). `classes`: the task's emotion
    names in label order (the loss terms see them in their `Context`)."""
    total_steps = config.train.steps
    options = ml_collections.FrozenConfigDict(config.loss)
    seed_key = jax.random.key(config.seed)

    def step(state: TrainState, batch) -> tuple[TrainState, dict]:
        if "label" in batch["target"]:  # checked at trace time: costs nothing per step
            raise ValueError("a training batch carries target labels; no loss may see them")
        rng = jax.random.fold_in(seed_key, state.step)
        progress = jnp.minimum(state.step / total_steps, 1.0)
        ramp = grl_schedule(progress, options.grl_gamma)
        b = batch["source"]["x"].shape[0]
        x = jnp.concatenate([batch["source"]["x"], batch["target"]["x"]])
        mask = jnp.concatenate([batch["source"]["mask"], batch["target"]["mask"]])
        ctx = Context(state.step, progress, state.method_state, options, tuple(classes))

        def loss_fn(params):
            out, updates = method.model.apply(
                {"params": params, "batch_stats": state.batch_stats},
                x,
                mask,
                train=True,
                grl_lambda=options.grl_max * ramp,
                rngs={"dropout": rng},
                mutable=["batch_stats"],
            )
            source, target = _split(out, b)
            out = {"source": source, "target": target}
            total, logs = 0.0, {}
            for name, (fn, weight) in method.terms.items():
                value, aux = as_scalar_and_aux(fn(out, batch, ctx))
                w = weight * ramp if name in method.ramped else weight
                total = total + w * value
                logs[f"loss/{name}"] = value
                logs.update({f"{name}/{k}": v for k, v in aux.items()})
            return total, (out, updates.get("batch_stats", {}), logs)

        (loss, (out, batch_stats, logs)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params
        )
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        method_state = state.method_state
        if method.update_state is not None:
            method_state = method.update_state(method_state, jax.lax.stop_gradient(out), batch, ctx)
        logs.update({"loss": loss, "grad_norm": optax.tree.norm(grads), "ramp": ramp})
        new = state.replace(
            step=state.step + 1,
            params=optax.apply_updates(state.params, updates),
            batch_stats=batch_stats,
            opt_state=opt_state,
            method_state=method_state,
        )
        return new, logs

    return step


def make_eval_step(method: Method):
    def step(params, batch_stats, x, mask):
        out = method.model.apply(
            {"params": params, "batch_stats": batch_stats}, x, mask, train=False
        )
        return out["logits"], out["features"]

    return step


def predict_split(eval_step, state: TrainState, split, config, mesh) -> dict:
    """Utterance-level softmax probabilities and features of a whole split: window
    outputs averaged per utterance, weighted by their valid frames."""
    from jax.experimental import multihost_utils

    from jaxser.data import pipeline

    n = len(split)
    sums: dict[str, np.ndarray] = {}
    weight = np.zeros(n)
    ds = pipeline.eval_dataset(
        split,
        config.train.eval_batch_size,
        crop_frames(config),
        jax.process_index(),
        jax.process_count(),
    )
    for batch in pipeline.as_numpy(ds):
        w = batch["mask"].sum(1) * batch["valid"]
        x, mask = parallel.shard_batch((batch["x"], batch["mask"]), mesh)
        logits, f = eval_step(state.params, state.batch_stats, x, mask)
        idx_w = parallel.shard_batch((batch["index"], w), mesh)
        logits, f, idx, w = multihost_utils.process_allgather((logits, f, *idx_w), tiled=True)
        outputs = {"probs": jax.nn.softmax(logits, -1), "logits": logits, "features": f}
        for key, value in outputs.items():
            sums.setdefault(key, np.zeros((n, value.shape[1])))
            np.add.at(sums[key], idx, w[:, None] * np.asarray(value))
        np.add.at(weight, idx, w)
    return {k: v / weight[:, None] for k, v in sums.items()} | {"labels": split.label}


def crop_frames(config) -> int:
    return round(config.data.crop_seconds * feature_config(config).frames_per_second)


def feature_config(config):
    from jaxser.data.features import FeatureConfig

    return FeatureConfig(
        kind=config.data.features, sample_rate=config.data.sample_rate, n_mels=config.data.n_mels
    )


def shape_batch(config, num_classes: int) -> dict:
    """An in-memory batch of the run's shapes, for `init_state` (no pipeline needed)."""
    from jaxser.data import batch as batch_lib

    return batch_lib.random(
        config.train.batch_size, crop_frames(config), feature_config(config).dim, num_classes
    )


def load_task_data(config):
    from jaxser.data import pipeline

    classes = tuple(c.strip() for c in config.data.classes.split(",") if c.strip())
    task = pipeline.Task(config.data.source, config.data.target, classes, config.data.protocol)
    return pipeline.load_task(
        task, config.data.data_dir or None, feature_config(config), config.data.normalization
    )


def _check_workdir(workdir: Path, config) -> None:
    saved = workdir / "config.json"
    if saved.exists():
        differ = config_lib.diff(config_lib.from_json(saved.read_text()), config)
        if differ:
            raise config_lib.ConfigError(
                f"{workdir} holds a run of a different config (keys that differ: {differ}); "
                "use another --workdir, or delete this one to start over"
            )
    else:
        workdir.mkdir(parents=True, exist_ok=True)
        saved.write_text(config_lib.to_json(config))


def _checkpoint_manager(workdir: Path, config) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=config.train.keep_checkpoints, create=True)
    return ocp.CheckpointManager((workdir / "checkpoints").resolve(), options=options)


def _restore(mngr, state: TrainState, step: int) -> TrainState:
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state.as_dict())
    restored = mngr.restore(step, args=ocp.args.StandardRestore(abstract))
    return TrainState(**restored)


def _start_from(state: TrainState, workdir: Path) -> TrainState:
    """Parameters and BN statistics of a finished stage, wherever the paths match."""
    mngr = ocp.CheckpointManager((workdir / "checkpoints").resolve())
    saved = mngr.restore(mngr.latest_step(), args=ocp.args.StandardRestore())

    def overlay(current, previous):
        flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(current))
        prev = flax.traverse_util.flatten_dict(previous)
        merged = {
            k: (prev[k] if k in prev and prev[k].shape == v.shape else v) for k, v in flat.items()
        }
        return flax.traverse_util.unflatten_dict(merged)

    return state.replace(
        params=overlay(state.params, saved["params"]),
        batch_stats=overlay(state.batch_stats, saved["batch_stats"]),
    )


def _pretrain_stage(config, workdir: Path) -> Path:
    """Runs (or reuses) the stage `config.train.pretrain` in `<workdir>/pretrain`."""
    stage = config_lib.load_file(config.train.pretrain)
    with stage.unlocked():
        stage.seed = config.seed
        stage.data = config.data
        stage.model = config.model
        stage.train.steps = config.train.pretrain_steps
        stage.train.eval_every = config.train.pretrain_steps
        stage.train.checkpoint_every = config.train.pretrain_steps
    config_lib.validate(stage)
    train(stage, workdir / "pretrain", progress=False)
    return workdir / "pretrain"


def evaluate_state(method, state, data, config, mesh, eval_step=None) -> dict:
    eval_step = eval_step or jax.jit(make_eval_step(method))
    pred = predict_split(eval_step, state, data.target_test, config, mesh)
    summary = metrics.summarize(pred["labels"], pred["probs"].argmax(1), data.classes)
    monitor = {}
    if method.monitor is not None:
        monitor = method.monitor(jax.device_get(state.method_state), pred)
    return {"summary": summary, "target": pred, "monitor": monitor}


def _eval_scalars(r: dict) -> dict:
    keys = ("uar", "war", "macro_f1", "pred_balance")
    return {k: r["summary"][k] for k in keys} | r["monitor"]


def train(config, workdir, *, max_steps: int | None = None, progress: bool = True) -> dict:
    """Trains `config` in `workdir` (resuming from its last checkpoint) and returns the
    results of the final evaluation (also written to `<workdir>/results.json`).

    `max_steps` stops this invocation after that many steps, as a preemption
    would; calling `train` again resumes.
    """
    from jaxser import evaluate
    from jaxser.data import pipeline
    from jaxser.writers import MetricWriter

    workdir = Path(workdir)
    config_lib.validate(config)
    parallel.initialize_distributed()
    _check_workdir(workdir, config)
    init_from = _pretrain_stage(config, workdir) if config.train.pretrain else None

    mesh = parallel.make_mesh()
    parallel.check_batch_size(config.train.batch_size, mesh)
    data = load_task_data(config)
    num_classes = len(data.classes)
    method = methods.build(config, data.classes, len(data.target_adapt))
    tx = make_optimizer(config)

    def batches(start: int):
        ds = pipeline.train_dataset(
            data,
            config.train.batch_size,
            crop_frames(config),
            config.data.balanced,
            config.seed,
            jax.process_index(),
            jax.process_count(),
            start_step=start,
        )
        return pipeline.as_numpy(ds)

    state = init_state(method, tx, shape_batch(config, num_classes), config.seed)
    mngr = _checkpoint_manager(workdir, config)
    start = mngr.latest_step() or 0
    if start:
        state = _restore(mngr, state, start)
    elif init_from is not None:
        state = _start_from(state, init_from)
    state = jax.device_put(state, parallel.replicated(mesh))

    repl, shard = parallel.replicated(mesh), parallel.data_sharding(mesh)
    step_fn = jax.jit(
        make_train_step(method, tx, config, data.classes),
        in_shardings=(repl, shard),
        out_shardings=(repl, repl),
        donate_argnums=0,
    )
    eval_step = jax.jit(make_eval_step(method))
    writer = MetricWriter(workdir)
    total = config.train.steps
    end = total if max_steps is None else min(total, start + max_steps)
    it = batches(start)
    bar = tqdm.tqdm(
        total=total,
        initial=start,
        disable=not progress,
        unit="step",
        desc=f"{config.method} {config.data.source}->{config.data.target}",
    )
    t_last, s_last = time.perf_counter(), start
    for step in range(start, end):
        batch = parallel.shard_batch(next(it), mesh)
        state, logs = step_fn(state, batch)
        logs = jax.device_get(logs)
        if not all(math.isfinite(float(v)) for v in logs.values()):
            mngr.wait_until_finished()
            terms = {k: float(v) for k, v in logs.items()}
            raise NonFiniteLoss(
                f"non-finite loss at step {step + 1}: {terms}. The last good checkpoint "
                f"(step {mngr.latest_step()}) is in {workdir / 'checkpoints'}"
            )
        done = step + 1
        if done % config.train.log_every == 0 or done == end:
            now = time.perf_counter()
            rate = (done - s_last) / (now - t_last)
            t_last, s_last = now, done
            writer.write(done, {**logs, "steps_per_s": rate})
            bar.set_postfix(
                {
                    k.removeprefix("loss/"): f"{float(v):.3f}"
                    for k, v in logs.items()
                    if k.startswith("loss")
                }
                | {"it/s": f"{rate:.2f}"}
            )
        if done % config.train.checkpoint_every == 0 or done == total:
            mngr.save(done, args=ocp.args.StandardSave(state.as_dict()))
        if done % config.train.eval_every == 0 and done != total:
            r = evaluate_state(method, state, data, config, mesh, eval_step)
            writer.write(done, _eval_scalars(r), "eval")
        bar.update(1)
    bar.close()
    mngr.wait_until_finished()
    if int(state.step) < total:
        return {"interrupted_at": int(state.step)}
    r = evaluate_state(method, state, data, config, mesh, eval_step)
    writer.write(total, _eval_scalars(r), "eval")
    return evaluate.write_results(workdir, config, r["summary"], int(state.step))


def load_for_eval(workdir: Path):
    """(config, method, state, data, mesh) of a finished or checkpointed run."""
    workdir = Path(workdir)
    config = config_lib.from_json((workdir / "config.json").read_text())
    mesh = parallel.make_mesh()
    data = load_task_data(config)
    method = methods.build(config, data.classes, len(data.target_adapt))
    tx = make_optimizer(config)

    state = init_state(method, tx, shape_batch(config, len(data.classes)), config.seed)
    mngr = _checkpoint_manager(workdir, config)
    step = mngr.latest_step()
    if step is None:
        raise FileNotFoundError(f"no checkpoint in {workdir / 'checkpoints'}")
    return config, method, _restore(mngr, state, step), data, mesh
