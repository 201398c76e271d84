"""results.json and the figures of a run's evaluation."""

from pathlib import Path

import numpy as np

from jaxser import files
from jaxser.data import tasks
from jaxser.evaluation import plots


def summary_line(r: dict) -> str:
    return (
        f"{r['method']} {r['source']}->{r['target']} {r['label_space']} seed {r['seed']} "
        f"step {r['steps']}: UAR {r['uar']:.4f}  WAR {r['war']:.4f}  macro-F1 {r['macro_f1']:.4f}"
    )


def write_results(
    workdir: Path,
    config,
    evaluations: dict[str, dict],
    steps: int,
    mapping: dict,
    protocol: str | None = None,
    config_hash: str = "",
    write: bool = True,
) -> dict:
    """Writes `confusion.png`, then `<workdir>/results.json` (atomically: a run
    folder with results.json is a finished run); returns the results: the
    classification metrics on the target test utterances, the run's identity
    (method, task, label space and the mapping used (class -> emotions), seed,
    steps, protocol (`data.protocol` unless given, e.g. "source_free"), the hash
    of its resolved config (`config_hash`, jaxser/run_folder.py); model
    selection: the last step, never target labels), then every other
    evaluator's results under its name. `write` False (processes other than the
    lead of a multi-host run): the results are returned, no file is written."""
    summary = evaluations["classification"]
    results = {
        **summary,
        "method": config.method,
        "source": config.data.source,
        "target": config.data.target or config.data.source,  # loso: one corpus
        "label_space": config.data.label_space,
        "label_mapping": {c: list(e) for c, e in mapping.items()},
        "seed": int(config.seed),
        "steps": int(steps),
        "protocol": protocol or config.data.protocol,
        "selection": "last",
        "config_hash": config_hash,
    }
    if results["protocol"] in tasks.SINGLE_CORPUS:
        results["fold"] = int(config.data.fold)
    results |= {k: v for k, v in evaluations.items() if k != "classification"}
    workdir = Path(workdir)
    if "ood" in results:  # the per-utterance scores go to ood.png, not results.json
        results["ood"] = dict(results["ood"])
        scores = results["ood"].pop("scores")
        if write:
            plots.ood_png(
                scores,
                workdir / "ood.png",
                f"{config.method}: held out {', '.join(results['ood']['ood_classes'])}",
            )
    if not write:
        return results
    plots.confusion_png(
        np.array(summary["confusion"]),
        summary["classes"],
        workdir / "confusion.png",
        f"{config.method} {config.data.source}->{config.data.target} "
        f"({config.data.label_space}) UAR {summary['uar']:.3f}",
    )
    files.write_json(workdir / "results.json", results)
    return results


def features_png(predictions, workdir: Path, title: str, max_points: int = 1500) -> None:
    """A 2-D map of source and target features (`features.png`), at most
    `max_points` utterances, half from each corpus, drawn with a fixed seed."""
    rng = np.random.default_rng(0)

    def subset(pred):
        n = len(pred["labels"])
        keep = np.sort(rng.choice(n, min(n, max_points // 2), replace=False))
        return pred["features"][keep], pred["labels"][keep]

    src, tgt = predictions("source"), predictions("target_test")
    (fs, ys), (ft, yt) = subset(src), subset(tgt)
    plots.features_png(fs, ys, ft, yt, predictions.classes, Path(workdir) / "features.png", title)
