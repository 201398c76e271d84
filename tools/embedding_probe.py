"""What did adaptation change in a model's embedding? Linear probes on it.

    python tools/embedding_probe.py runs/search/emodna-*-draw*-seed0-* runs/search/source_only-*
    python tools/embedding_probe.py runs/ablate/* --json probes.json

For each finished run folder: the embeddings ("features") of its source split
(the training speakers, windows averaged per utterance) and of its target
test split, and standardised logistic regressions on them (tools/speaker_probe.py's):

- domain: 5-fold cross-validated balanced accuracy of telling source from
  target utterances (chance 0.5). Corpus-level alignment (DANN, Emo-DNA's
  corpus discriminator, MMD, IDA) should lower it.
- transfer: a probe fitted on the source embeddings and labels, tested on the
  target (UAR): is the emotion direction the same in both corpora? Class-level
  alignment (Emo-DNA's pseudo-labels, ECAN's neighbours) should raise it.
- target probe: 5-fold cross-validated UAR of a probe fitted on the target's
  own labels: how much emotion the embedding holds there at all.
- head: the run's own target UAR (results.json).
- centroid: mean over classes of the cosine distance between a class's source
  and target mean embedding (jointly standardised): 0 when they coincide.

target probe - head is what the classifier misses of what the embedding holds;
target probe - transfer is what the corpora's disagreement costs. The target
probe reads target labels: a diagnosis of development runs, never a model
selection score. Prints one line per run and, per method, mean +- population
std (ddof 0) over its runs.
"""

import argparse
import collections
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.preprocessing import StandardScaler
from speaker_probe import classifier, probe

MEASURES = ("domain", "transfer", "target_probe", "head", "centroid")


def measures(source: np.ndarray, source_y: np.ndarray, target: np.ndarray,
             target_y: np.ndarray, seed: int = 0) -> dict:  # fmt: skip
    """The probes above on source and target embeddings (rows: utterances) and labels."""
    both = np.concatenate([source, target])
    domain = np.repeat([0, 1], [len(source), len(target)])
    clf = classifier().fit(source, source_y)
    scaled = StandardScaler().fit(both)
    s, t = scaled.transform(source), scaled.transform(target)
    distances = []
    for c in np.intersect1d(source_y, target_y):
        a, b = s[source_y == c].mean(0), t[target_y == c].mean(0)
        distances.append(1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    return {
        "domain": float(balanced_accuracy_score(domain, probe(both, domain, seed))),
        "transfer": float(balanced_accuracy_score(target_y, clf.predict(target))),
        "target_probe": float(balanced_accuracy_score(target_y, probe(target, target_y, seed))),
        "centroid": float(np.mean(distances)),
    }


def run_probe(workdir: Path) -> dict:
    from jaxser import experiment
    from jaxser.evaluation import report
    from jaxser.evaluation.predict import Predictions

    exp = experiment.restore(workdir)
    predictions = Predictions.of(exp, exp.state)
    source, target = predictions("source"), predictions("target_test")
    row = report.read_run(workdir)[0]
    m = measures(source["features"], exp.data.source.label, target["features"],
                 exp.data.target_test.label)  # fmt: skip
    return {"method": row.method, "run": workdir.name, "task": row.task, "seed": row.seed,
            "draw": row.draw, "setting": row.setting, "head": row.uar, **m}  # fmt: skip


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="finished run folders")
    p.add_argument("--json", type=Path, help="also write every run's measures here")
    args = p.parse_args(argv)
    by_method, every = collections.defaultdict(list), []
    for run in args.runs:
        if not (run / "results.json").is_file():
            print(f"skipped {run}: no results.json")
            continue
        r = run_probe(run)
        every.append(r)
        by_method[r["method"]].append(r)
        print(f"{r['run']}: " + ", ".join(f"{k} {r[k]:.3f}" for k in MEASURES))
    for method, rows in by_method.items():
        cells = [f"{k} {np.mean([r[k] for r in rows]):.3f} +- {np.std([r[k] for r in rows]):.3f}"
                 for k in MEASURES]  # fmt: skip
        print(f"{method} ({len(rows)} runs): " + ", ".join(cells))
    if args.json:
        args.json.write_text(json.dumps(every, indent=1) + "\n")


if __name__ == "__main__":
    main()
