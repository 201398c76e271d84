"""Evaluate a run: `python -m jaxser.evaluate --workdir DIR`.

Restores the last checkpoint of the run in DIR and writes, on the target test
utterances: `results.json` (UAR, WAR, macro-F1, per-class recall, confusion
matrix, classes, method, task, seed, steps, protocol; model selection: the last
step, never target labels), `confusion.png`, and `features.png`, a 2-D map of
source and target features coloured by emotion.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def summary_line(r: dict) -> str:
    return (
        f"{r['method']} {r['source']}->{r['target']} seed {r['seed']} step {r['steps']}: "
        f"UAR {r['uar']:.4f}  WAR {r['war']:.4f}  macro-F1 {r['macro_f1']:.4f}"
    )


def write_results(workdir: Path, config, summary: dict, steps: int) -> dict:
    """Writes `<workdir>/results.json` and `confusion.png`; returns the results."""
    from jaxser import plots

    results = {
        **summary,
        "method": config.method,
        "source": config.data.source,
        "target": config.data.target,
        "seed": int(config.seed),
        "steps": int(steps),
        "protocol": config.data.protocol,
        "selection": "last",
    }
    workdir = Path(workdir)
    (workdir / "results.json").write_text(json.dumps(results, indent=1))
    plots.confusion_png(
        np.array(summary["confusion"]),
        summary["classes"],
        workdir / "confusion.png",
        f"{config.method} {config.data.source}->{config.data.target} UAR {summary['uar']:.3f}",
    )
    return results


def evaluate(workdir: Path, max_plot_points: int = 1500) -> dict:
    import jax

    from jaxser import metrics, plots, trainer

    config, method, state, data, mesh = trainer.load_for_eval(workdir)
    eval_step = jax.jit(trainer.make_eval_step(method))
    tgt = trainer.predict_split(eval_step, state, data.target_test, config, mesh)
    summary = metrics.summarize(tgt["labels"], tgt["probs"].argmax(1), data.classes)
    results = write_results(workdir, config, summary, int(state.step))
    src = trainer.predict_split(eval_step, state, data.source, config, mesh)
    rng = np.random.default_rng(0)

    def subset(pred):
        n = len(pred["labels"])
        keep = np.sort(rng.choice(n, min(n, max_plot_points // 2), replace=False))
        return pred["features"][keep], pred["labels"][keep]

    (fs, ys), (ft, yt) = subset(src), subset(tgt)
    plots.features_png(
        fs,
        ys,
        ft,
        yt,
        data.classes,
        Path(workdir) / "features.png",
        f"{config.method} {config.data.source}->{config.data.target}",
    )
    return results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m jaxser.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--workdir", required=True)
    args = p.parse_args(argv)
    workdir = Path(args.workdir)
    if not (workdir / "config.json").is_file():
        sys.exit(f"error: {workdir} holds no run (no config.json)")
    r = evaluate(workdir)
    print(summary_line(r), file=sys.stderr)
    print(workdir / "results.json")


if __name__ == "__main__":
    main()
