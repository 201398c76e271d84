"""Run logs: `metrics.jsonl` (one JSON object per line) and TensorBoard events.

Only the lead process (process 0) writes; the others' writers do nothing. A
kill can cut the last line of metrics.jsonl short: `read` leaves it out.
"""

import sys
import time
from pathlib import Path

from jaxser import files, parallel


class MetricWriter:
    """Appends scalars to `<workdir>/metrics.jsonl` and `<workdir>/tensorboard/`."""

    def __init__(self, workdir: Path, tensorboard: bool = True):
        self.path = Path(workdir) / "metrics.jsonl"
        self.active = parallel.is_lead()
        if self.active and files.drop_torn_line(self.path):
            print(f"{self.path}: dropped a last line cut short by a kill", file=sys.stderr)
        self._tb = None
        if tensorboard and self.active:
            try:  # the data layer's dependency; optional here (a box without it logs no events)
                from jaxser.data import quiet

                tf = quiet.tensorflow()
                self._tb = tf.summary.create_file_writer(str(Path(workdir) / "tensorboard"))
                self._tf = tf
            except ImportError:
                self._tb = None

    def write(self, step: int, scalars: dict[str, float], kind: str = "train") -> None:
        if not self.active:
            return
        row = {"step": int(step), "kind": kind, "time": round(time.time(), 3)}
        row.update({k: float(v) for k, v in scalars.items()})
        files.append_line(self.path, row)
        if self._tb is not None:
            with self._tb.as_default(step=int(step)):
                for k, v in scalars.items():
                    self._tf.summary.scalar(f"{kind}/{k}", float(v))
            self._tb.flush()

    def write_runtime(self, step: int, info: dict) -> None:
        """A row of kind "runtime": what this (re)start of the run runs on
        (jaxser/training/runtime.py); strings, not scalars, so not in TensorBoard."""
        if self.active:
            files.append_line(self.path, {"step": int(step), "kind": "runtime", **info})


def read(workdir: Path, kind: str | None = None) -> list[dict]:
    """The rows of a run's metrics.jsonl (of one `kind`, if given)."""
    rows = files.read_jsonl(Path(workdir) / "metrics.jsonl")
    return [r for r in rows if kind is None or r["kind"] == kind]
