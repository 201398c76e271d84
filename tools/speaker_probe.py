"""How much speaker identity is left in a model's embedding? A linear probe.

    python tools/speaker_probe.py runs/loso/msac-*-fold*-seed0 runs/loso/msac_ce-*-fold*-seed0

For each finished run folder: the embeddings ("features") of the run's source
split (the training speakers' utterances, windows averaged), and a 5-fold
cross-validated logistic regression on them predicting the speaker (accuracy,
chance = 1 / speakers) and the emotion (UAR). Speaker control (MSAC-SERNet's
reversal or orthogonal attribute embedding) should lower the speaker accuracy
while keeping the emotion UAR. Prints one line per run and, per method, the
mean +- population std (ddof 0) over its runs.
"""

import argparse
import collections
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def classifier():
    """The probe: a standardised logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5))


def probe(features: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """5-fold cross-validated predictions of `classifier()`."""
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return cross_val_predict(classifier(), features, y, cv=folds)


def run_probe(workdir: Path) -> dict:
    from jaxser import experiment
    from jaxser.evaluation import report
    from jaxser.evaluation.predict import Predictions

    exp = experiment.restore(workdir)
    source = Predictions.of(exp, exp.state)("source")
    speaker, label = exp.data.source.speaker, exp.data.source.label
    row = report.read_run(workdir)[0]
    return {
        "method": row.method,  # the sweep's label (msac_ce, ...)
        "run": workdir.name,
        "speakers": len(np.unique(speaker)),
        "speaker_acc": float(np.mean(probe(source["features"], speaker) == speaker)),
        "emotion_uar": float(balanced_accuracy_score(label, probe(source["features"], label))),
        "target_uar": row.uar,
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="finished run folders")
    args = p.parse_args(argv)
    by_method = collections.defaultdict(list)
    for run in args.runs:
        if not (run / "results.json").is_file():
            print(f"skipped {run}: no results.json")
            continue
        r = run_probe(run)
        by_method[r["method"]].append(r)
        print(
            f"{r['run']}: speaker accuracy {r['speaker_acc']:.3f} (chance {1 / r['speakers']:.3f}),"
            f" emotion UAR {r['emotion_uar']:.3f}, target UAR {r['target_uar']:.3f}"
        )
    for method, rows in by_method.items():
        acc = [r["speaker_acc"] for r in rows]
        uar = [r["emotion_uar"] for r in rows]
        print(
            f"{method} ({len(rows)} runs): speaker accuracy {np.mean(acc):.3f} "
            f"+- {np.std(acc):.3f}, emotion UAR on the source {np.mean(uar):.3f} "
            f"+- {np.std(uar):.3f}"
        )


if __name__ == "__main__":
    main()
