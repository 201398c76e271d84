"""Run logs: `metrics.jsonl` (one JSON object per line) and TensorBoard events."""

import json
import time
from pathlib import Path


class MetricWriter:
    """Appends scalars to `<workdir>/metrics.jsonl` and `<workdir>/tensorboard/`."""

    def __init__(self, workdir: Path, tensorboard: bool = True):
        self.path = Path(workdir) / "metrics.jsonl"
        self._tb = None
        if tensorboard:
            try:
                import tensorflow as tf  # the data layer's dependency; optional here

                self._tb = tf.summary.create_file_writer(str(Path(workdir) / "tensorboard"))
                self._tf = tf
            except ImportError:
                self._tb = None

    def write(self, step: int, scalars: dict[str, float], kind: str = "train") -> None:
        row = {"step": int(step), "kind": kind, "time": round(time.time(), 3)}
        row.update({k: float(v) for k, v in scalars.items()})
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        if self._tb is not None:
            with self._tb.as_default(step=int(step)):
                for k, v in scalars.items():
                    self._tf.summary.scalar(f"{kind}/{k}", float(v))
            self._tb.flush()


def read(workdir: Path, kind: str | None = None) -> list[dict]:
    path = Path(workdir) / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r for r in rows if kind is None or r["kind"] == kind]
