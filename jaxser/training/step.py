"""The pure train step: (state, batch) -> (state, logs), for any `Method`.

The step forwards the halves the method runs on (source + target concatenated,
so BatchNorm statistics are over both; the target only; or the source only),
sums the weighted loss terms (their matrix products in full float32), applies
the optax update and updates the method state. Its checks run when it is
traced, so they cost nothing per step: a batch whose target half has labels is
refused, and so is a half the method does not run on (a source half for
source-free adaptation, a target half for a source model).
"""

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax

from jaxser.methods.base import BATCH_HALVES, Context, Method
from jaxser.training.state import TrainState

# The losses' products (kernel matrices, covariances, IDA's ridge solve,
# similarities) and the method state's update in full float32 on every
# platform. XLA on an NVIDIA GPU runs float32 matrix products in TF32 by
# default (10-bit mantissa): on an H200 the first steps' losses differed from
# the CPU's by 1e-4 (backbone and losses together), and a closed form like
# IDA's solve loses more. The backbone keeps the platform's default (and
# `model.compute_dtype`); the losses' matrices are small, so this costs little.
LOSS_PRECISION = "float32"


def check_batch(method: Method, batch: dict) -> None:
    if "label" in batch.get("target", {}):
        raise ValueError("a training batch carries target labels; no loss may see them")
    if method.halves == "target" and "source" in batch:
        raise ValueError(
            f"method {method.name!r} adapts on the target only (source-free), "
            "but the training batch has a source half"
        )
    if method.halves == "source" and "target" in batch:
        raise ValueError(
            f"method {method.name!r} trains a source model on the source alone, "
            "but the training batch has a target half"
        )
    if missing := [h for h in BATCH_HALVES[method.halves] if h not in batch]:
        raise ValueError(f"method {method.name!r} needs a {missing[0]} half in the training batch")


def make_train_step(method: Method, tx, total_steps: int, seed: int, classes: Sequence[str]):
    """The step of `method` for a run of `total_steps` steps; `classes`: the task's
    emotion names in label order (the terms see them in their `Context`).

    The step closes over no device array: one would be baked into the compiled
    program as a constant, read back from the device at every compilation (an
    error under the loop's transfer guard on an accelerator). The seed's key
    is made inside, from the Python int."""
    halves = BATCH_HALVES[method.halves]
    classes = tuple(classes)

    def step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        check_batch(method, batch)
        rng = jax.random.fold_in(jax.random.key(seed), state.step)
        progress = jnp.minimum(state.step / total_steps, 1.0)
        schedules = {name: fn(progress) for name, fn in method.schedules.items()}
        sizes = [batch[h]["x"].shape[0] for h in halves]
        x = jnp.concatenate([batch[h]["x"] for h in halves])
        mask = jnp.concatenate([batch[h]["mask"] for h in halves])
        model_kw = {kw: schedules[name] for kw, name in method.model_schedules.items()}
        ctx = Context(state.step, progress, state.method_state, method.options, classes, schedules)

        def loss_fn(params):
            out, updates = method.model.apply(
                {"params": params, "batch_stats": state.batch_stats},
                x,
                mask,
                train=True,
                rngs={"dropout": rng},
                mutable=["batch_stats"],
                **model_kw,
            )
            out = _split(out, halves, sizes)
            total, logs = 0.0, {}
            with jax.default_matmul_precision(LOSS_PRECISION):
                for name, term in method.terms.items():
                    value, aux = term(out, batch, ctx)
                    w = term.weight * schedules[term.schedule] if term.schedule else term.weight
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
            with jax.default_matmul_precision(LOSS_PRECISION):
                out = jax.lax.stop_gradient(out)
                method_state = method.update_state(method_state, out, batch, ctx)
        logs.update({"loss": loss, "grad_norm": optax.tree.norm(grads)})
        logs.update({f"schedule/{name}": v for name, v in schedules.items()})
        new = state.replace(
            step=state.step + 1,
            params=optax.apply_updates(state.params, updates),
            batch_stats=batch_stats,
            opt_state=opt_state,
            method_state=method_state,
        )
        return new, logs

    return step


def _split(out: dict, halves: tuple[str, ...], sizes: list[int]) -> dict:
    """The model's outputs on the concatenated halves -> {half: outputs}."""
    parts, start = {}, 0
    for h, n in zip(halves, sizes, strict=True):
        parts[h] = jax.tree.map(lambda a, s=start, n=n: a[s : s + n], out)
        start += n
    return parts
