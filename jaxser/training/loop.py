"""The training loop over a built experiment (`jaxser.experiment.setup`).

`fit` starts from the workdir's last checkpoint (or a finished stage's
parameters, and fills the method state from one prediction pass over the
target), then loops over steps. A step dispatches the jit-compiled train step
on a batch already on the devices (`device_batches` puts the next one there
while the current one computes) and reads nothing back: the host queues steps
ahead of the devices. The host waits for the devices only when one of the
periodic actions (nanodo's and clu's shape) is due:

- refresh: the method state from a prediction pass over the target, before
  every `method.refresh_every`-th step (SHOT's centroid pseudo-labels);
- log: every `train.log_every` steps and at the end of this call, the logs of
  every step since the last check are fetched at once and checked finite
  (a NaN or infinity stops the run naming its first step, with the last good
  checkpoint intact), and the last step's are written to metrics.jsonl and
  TensorBoard;
- checkpoint: every `train.checkpoint_every` steps and at the last, with orbax;
- evaluate: on the target every `train.eval_every` steps (and at step 0 of a
  source-free adaptation: the source model with its filled banks).

Every action first checks the logs of the steps before it, so a state is
checkpointed or evaluated only once its losses were checked finite.
"""

import collections
import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jax
import orbax.checkpoint as ocp
import tqdm

from jaxser import parallel, run_folder
from jaxser.evaluation import evaluators
from jaxser.methods.base import BATCH_HALVES
from jaxser.training import checkpoints, runtime
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
    from jaxser.evaluation.predict import Predictions  # the data pipeline: when a run evaluates

    preds = Predictions.of(exp, state)
    results = evaluators.run(exp.evaluators | (exp.final_evaluators if final else {}), preds)
    scalars = evaluators.scalars(results)
    if exp.method.monitor is not None:
        scalars |= exp.method.monitor(jax.device_get(state.method_state), preds("target_test"))
    return results, scalars


def _host_update(exp, state, fn, *args):
    """`state` with its method state replaced by `fn(method_state, target, *args)`,
    `target`: predictions over the target utterances adapted on, without labels."""
    from jaxser.evaluation.predict import Predictions, without_labels

    target = without_labels(Predictions.of(exp, state)("target_adapt"))
    new = fn(jax.device_get(state.method_state), target, *args)
    return state.replace(method_state=jax.device_put(new, parallel.replicated(exp.mesh)))


def batches(exp, start: int) -> Iterator[dict]:
    """This process's slices of the training stream (tf.data) from batch `start` on."""
    from jaxser.data import pipeline  # TensorFlow: only when a run reads its corpora

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


def device_batches(host_batches: Iterator[dict], mesh, ahead: int = 1) -> Iterator:
    """The batches sharded onto the mesh's devices, each put there `ahead`
    batches before it is yielded (the transfer overlaps the step before)."""
    queue = collections.deque()
    for batch in host_batches:
        queue.append(parallel.shard_batch(batch, mesh))
        if len(queue) > ahead:
            yield queue.popleft()
    yield from queue


@dataclasses.dataclass(frozen=True)
class Action:
    """A host action of the loop: `run(step, state) -> state` when `due(step)`."""

    name: str
    due: Callable[[int], bool]
    run: Callable


class _Checked:
    """The logs of the steps dispatched since the last check, still on the devices;
    `check` fetches them in one transfer and stops on a non-finite value."""

    def __init__(self, start: int, mngr, workdir: Path):
        self.pending: list[tuple[int, dict]] = []  # (the step's number, its logs)
        self.last: dict[str, float] = {}  # the checked logs of the last step
        self.step, self.rate = start, float("nan")
        self.mngr, self.workdir = mngr, workdir
        self._t = time.perf_counter()

    def check(self) -> None:
        if not self.pending:
            return
        steps, logs = zip(*self.pending, strict=True)
        logs = jax.device_get(list(logs))
        now = time.perf_counter()
        self.rate = (steps[-1] - self.step) / (now - self._t)
        self._t, self.step, self.pending = now, steps[-1], []
        for n, row in zip(steps, logs, strict=True):
            if not all(math.isfinite(float(v)) for v in row.values()):
                self.mngr.wait_until_finished()
                terms = {k: float(v) for k, v in row.items()}
                good = self.mngr.latest_step()
                where = self.workdir / "checkpoints"
                raise NonFiniteLoss(
                    f"non-finite loss at step {n} (checked steps {steps[0]}-{steps[-1]}): "
                    f"{terms}. "
                    + (
                        f"The last good checkpoint (step {good}) is in {where}"
                        if good
                        else "No checkpoint was saved before it"
                    )
                )
        self.last = {k: float(v) for k, v in logs[-1].items()}


def fit(
    exp,
    workdir: Path,
    *,
    init_from: Path | None = None,
    max_steps: int | None = None,
    progress: bool = True,
    feed: Callable[..., Iterator[dict]] | None = None,
    transfer_guard: str = "allow",
    allow_device_change: bool = False,
) -> tuple[int, dict | None]:
    """Trains `exp` in `workdir` (resuming from its last checkpoint). Returns (the
    step reached, the final evaluation's results or None if stopped early).

    `max_steps`: stop this call after that many steps, as a preemption would.
    `feed(exp, start)`: this process's host batches from batch `start` on
    (default `batches`, the tf.data stream; `jaxser.data.batch.in_memory` feeds
    batches held in memory). `transfer_guard`: JAX's guard level for
    device-to-host transfers while the steps between actions are dispatched
    ("disallow_explicit" makes any per-step read-back an error). A run resumed
    on another platform or compute dtype than it started on is refused
    (runtime.DeviceChanged) unless `allow_device_change`."""
    config, method = exp.config, exp.method
    workdir = Path(workdir)
    here = runtime.describe(config)
    if not allow_device_change and run_folder.has_checkpoint(workdir):
        runtime.check_resume(workdir, here)  # before the folder is touched
    mngr, restored, start = checkpoints.restore_latest(
        workdir, exp.state, config.train.keep_checkpoints, move_damaged=True
    )
    state = restored if restored is not None else exp.state
    if not start and init_from is not None:  # source-free: every parameter is the source model's
        state = checkpoints.start_from(state, init_from, strict=method.halves == "target")
    state = jax.device_put(state, parallel.replicated(exp.mesh))
    writer = MetricWriter(workdir)
    writer.write_runtime(start, here)
    if not start and method.fill_state is not None:
        state = _host_update(exp, state, method.fill_state)
        if method.halves == "target":  # the source model as adaptation starts, with its banks
            writer.write(0, evaluate(exp, state)[1], "eval")

    total = config.train.steps
    end = total if max_steps is None else min(total, start + max_steps)
    t = config.train
    checked = _Checked(start, mngr, workdir)
    bar = tqdm.tqdm(
        total=total,
        initial=start,
        disable=not progress,
        unit="step",
        desc=f"{config.method} {config.data.source}->{config.data.target}",
    )

    def log(step, state):
        writer.write(step, {**checked.last, "steps_per_s": checked.rate})
        losses = {
            k.removeprefix("loss/"): v for k, v in checked.last.items() if k.startswith("loss")
        }
        bar.set_postfix(
            {k: f"{v:.3f}" for k, v in losses.items()} | {"it/s": f"{checked.rate:.2f}"}
        )
        return state

    def checkpoint(step, state):
        mngr.save(step, args=ocp.args.StandardSave(state.as_dict()))
        return state

    def evaluate_now(step, state):
        writer.write(step, evaluate(exp, state)[1], "eval")
        return state

    every = method.refresh_every
    before_step = [  # before step n+1, i.e. after n steps (also when a resumed call starts there)
        Action("refresh", lambda n: every and n and n % every == 0,
               lambda n, s: _host_update(exp, s, method.refresh, n)),
    ]  # fmt: skip
    after_step = [
        Action("log", lambda n: n % t.log_every == 0 or n == end, log),
        Action("checkpoint", lambda n: n % t.checkpoint_every == 0 or n == total, checkpoint),
        Action("evaluate", lambda n: n % t.eval_every == 0 and n != total, evaluate_now),
    ]

    def run_due(actions, n, state):
        due = [a for a in actions if a.due(n)]
        if due:
            checked.check()  # every action sees a state whose losses were finite
        for action in due:
            state = action.run(n, state)
        return state

    def guard():
        if transfer_guard == "allow":
            return contextlib.nullcontext()
        return jax.transfer_guard_device_to_host(transfer_guard)

    stream = device_batches((feed or batches)(exp, start), exp.mesh)
    done = start
    try:
        for step in range(start, end):
            state = run_due(before_step, step, state)
            with guard():
                state, logs = exp.step(state, next(stream))
            checked.pending.append((step + 1, logs))
            done = step + 1
            state = run_due(after_step, done, state)
            bar.update(1)
    except KeyboardInterrupt:  # one line, not orbax's and TensorFlow's tracebacks
        bar.close()
        mngr.wait_until_finished()
        raise Interrupted(done, mngr.latest_step(), workdir) from None
    bar.close()
    mngr.wait_until_finished()
    exp.state = state  # the step donated the state it was given: keep the live one
    if done < total:
        return done, None
    results, scalars = evaluate(exp, state, final=True)
    writer.write(total, scalars, "eval")
    return total, results
