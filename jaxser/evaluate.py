"""Evaluate a run: `python -m jaxser.evaluate --workdir DIR`.

Restores the last checkpoint of the run in DIR and writes, on the target test
utterances: `results.json` (UAR, WAR, macro-F1, per-class recall, confusion
matrix, classes, method, task, seed, steps, protocol, and every other
evaluator's results; model selection: the last step, never target labels),
`confusion.png`, and `features.png`, a 2-D map of source and target features
coloured by emotion.
"""

import argparse
import sys
from pathlib import Path

from jaxser import cli, experiment, parallel
from jaxser.evaluation import evaluators, results
from jaxser.evaluation.predict import Predictions


def evaluate(workdir: Path, max_plot_points: int = 1500) -> dict:
    exp = experiment.restore(workdir)
    c, preds = exp.config, Predictions.of(exp, exp.state)
    evaluations = evaluators.run(exp.evaluators | exp.final_evaluators, preds)
    r = experiment.write_results(exp, workdir, evaluations, int(exp.state.step))
    title = f"{c.method} {c.data.source}->{c.data.target} ({c.data.label_space})"
    if parallel.is_lead():
        results.features_png(preds, workdir, title, max_plot_points)
    return r


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m jaxser.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--workdir", required=True)
    cli.add_debug(p)
    args = p.parse_args(argv)
    workdir = Path(args.workdir)
    from jaxser.training.checkpoints import DamagedCheckpoint

    with cli.one_line_errors(cli.debugging(args), DamagedCheckpoint):
        r = evaluate(workdir)
    print(results.summary_line(r), file=sys.stderr)
    print(workdir / "results.json")


if __name__ == "__main__":
    main()
