"""The training loop over a built experiment (`jaxser.experiment.setup`).

`fit` resumes from the workdir's last checkpoint (or starts from a finished
stage's parameters, or fills the method state from one prediction pass over
the target), steps the jit-compiled train step over the tf.data stream,
refreshes the method state on the host every `method.refresh_every` steps,
evaluates on the target every `train.eval_every` steps (and at step 0 of a
source-free adaptation: the source model with its filled banks), checkpoints with orbax,
logs to metrics.jsonl + TensorBoard, and stops on a non-finite loss with the
last good checkpoint intact.
"""

import math
import time
from pathlib import Path

import jax
import orbax.checkpoint as ocp
import tqdm

from jaxser import parallel
from jaxser.data import pipeline
from jaxser.evaluation import evaluators
from jaxser.evaluation.predict import Predictions, without_labels
from jaxser.methods.base import BATCH_HALVES
from jaxser.training import checkpoints
from jaxser.training.writers import MetricWriter


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the message names the step and the terms."""


class Interrupted(Exception):
    """Ctrl-C stopped training; the message says where and that a rerun resumes."""

    def __init__(self, step: int, checkpoint: int | None, workdir: Path):
        self.step, self.checkpoint = step, checkpoint
        saved = f"its last checkpoint is step {checkpoint}" if checkpoint else "no checkpoint yet"
        super().__init__(
            f"interrupted at step {step} of {workdir} ({saved}); run the same command to resume"
        )


def evaluate(exp, state, final: bool = False) -> tuple[dict, dict]:
    """(every evaluator's results, the scalars to log incl. the method's monitor);
    `final`: the run's last evaluation, which adds `exp.final_evaluators`."""
    preds = Predictions.of(exp, state)
    results = evaluators.run(exp.evaluators | (exp.final_evaluators if final else {}), preds)
    scalars = evaluators.scalars(results)
    if exp.method.monitor is not None:
        scalars |= exp.method.monitor(jax.device_get(state.method_state), preds("target_test"))
    return results, scalars


def _host_update(exp, state, fn, *args):
    """`state` with its method state replaced by `fn(method_state, target, *args)`,
    `target`: predictions over the target utterances adapted on, without labels."""
    target = without_labels(Predictions.of(exp, state)("target_adapt"))
    new = fn(jax.device_get(state.method_state), target, *args)
    return state.replace(method_state=jax.device_put(new, parallel.replicated(exp.mesh)))


def batches(exp, start: int):
    """This process's slices of the training stream from batch `start` on."""
    c = exp.config
    ds = pipeline.train_dataset(
        exp.data,
        c.train.batch_size,
        exp.crop_frames,
        c.data.balanced,
        c.seed,
        jax.process_index(),
        jax.process_count(),
        start_step=start,
        halves=BATCH_HALVES[exp.method.halves],
    )
    return pipeline.as_numpy(ds)


def fit(
    exp,
    workdir: Path,
    *,
    init_from: Path | None = None,
    max_steps: int | None = None,
    progress: bool = True,
) -> tuple[int, dict | None]:
    """Trains `exp` in `workdir` (resuming from its last checkpoint). Returns (the
    step reached, the final evaluation's results or None if stopped early);
    `max_steps` stops this call after that many steps, as a preemption would."""
    config, method, mesh = exp.config, exp.method, exp.mesh
    workdir = Path(workdir)
    mngr, restored, start = checkpoints.restore_latest(
        workdir, exp.state, config.train.keep_checkpoints, move_damaged=True
    )
    state = restored if restored is not None else exp.state
    if not start and init_from is not None:  # source-free: every parameter is the source model's
        state = checkpoints.start_from(state, init_from, strict=method.halves == "target")
    state = jax.device_put(state, parallel.replicated(mesh))
    writer = MetricWriter(workdir)
    if not start and method.fill_state is not None:
        state = _host_update(exp, state, method.fill_state)
        if method.halves == "target":  # the source model as adaptation starts, with its banks
            writer.write(0, evaluate(exp, state)[1], "eval")
    total = config.train.steps
    end = total if max_steps is None else min(total, start + max_steps)
    it = batches(exp, start)
    bar = tqdm.tqdm(
        total=total,
        initial=start,
        disable=not progress,
        unit="step",
        desc=f"{config.method} {config.data.source}->{config.data.target}",
    )
    t_last, s_last = time.perf_counter(), start
    done = start
    try:
        for step in range(start, end):
            if method.refresh_every and step and step % method.refresh_every == 0:
                state = _host_update(exp, state, method.refresh, step)
            batch = parallel.shard_batch(next(it), mesh)
            state, logs = exp.step(state, batch)
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
                writer.write(done, evaluate(exp, state)[1], "eval")
            bar.update(1)
    except KeyboardInterrupt:  # one line, not orbax's and TensorFlow's tracebacks
        bar.close()
        mngr.wait_until_finished()
        raise Interrupted(done, mngr.latest_step(), workdir) from None
    bar.close()
    mngr.wait_until_finished()
    exp.state = state  # the step donated the state it was given: keep the live one
    if int(state.step) < total:
        return int(state.step), None
    results, scalars = evaluate(exp, state, final=True)
    writer.write(total, scalars, "eval")
    return total, results
