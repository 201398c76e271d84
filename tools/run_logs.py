"""What a run's logs say about a collapse, one line per run folder.

    python tools/run_logs.py /tmp/g12/emodna-*            # Emo-DNA's pseudo-label share
    python tools/run_logs.py runs/* --peak loss/adv loss/corpus

For each run (a folder with results.json and metrics.jsonl): at every
evaluation the label-free pred_balance and, where logged, the share of target
utterances accepted as pseudo-labels; then the largest logged value of each
`--peak` training scalar and the step it was logged at (training lines are
written every `train.log_every` steps, so a peak between them is not seen).
"""

import argparse
from pathlib import Path

from jaxser import files


def summary(workdir: Path, peaks: list[str]) -> str:
    rows = files.read_jsonl(workdir / "metrics.jsonl")  # a torn last line left out
    parts = []
    for r in (r for r in rows if r["kind"] == "eval"):
        share = r.get("pseudo/accepted_share")
        accepted = f" accepted {share:.2f}" if share is not None else ""
        parts.append(f"@{r['step']}: balance {abs(r['pred_balance']):.2f}{accepted}")
    train = [r for r in rows if r["kind"] == "train"]
    for key in peaks:
        logged = [r for r in train if key in r]
        if logged:
            top = max(logged, key=lambda r: r[key])
            parts.append(f"peak {key} {top[key]:.2f} at step {top['step']}")
    return f"{workdir.name:48s} " + " | ".join(parts)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--peak", nargs="*", default=["loss/corpus", "loss/adv"])
    args = p.parse_args()
    for run in sorted(args.runs):
        if (run / "results.json").exists():
            print(summary(run, args.peak))


if __name__ == "__main__":
    main()
