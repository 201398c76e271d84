"""What does a model's target prediction follow: the emotion, or who speaks?

    python tools/prediction_breakdown.py runs/dev/casia_arousal/emodna-*-draw0-seed1-*
    python tools/prediction_breakdown.py RUN... --json breakdown.json

For each finished run folder, its model (the newest checkpoint) predicts the
target test split, as the final evaluation does, and the predictions are
broken down by (the UAR of these predictions is printed beside results.json's,
which it should equal):

- emotion: per emotion of the target corpus, the share of its utterances put
  in its class. In a binary space (arousal, valence) a class holds several
  emotions: which of them the model sends to the wrong half;
- speaker: per speaker (and their gender), the share of their utterances
  predicted as each class;
- normalised mutual information (scikit-learn's, arithmetic mean) of the
  predictions with the labels, the speakers and the genders: 0 when
  independent, 1 when one determines the other. A model whose predictions
  follow the speakers' gender (nmi_gender near 1, nmi_label near 0) has
  learned the voice instead of the emotion while its predictions stay
  balanced and confident: what `pred_balance` and the label-free scores
  (`im`) reward.

nmi_label reads the target's labels: a diagnosis of development runs, never a
model-selection score. nmi_speaker and nmi_gender read only who speaks.
"""

import argparse
import collections
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, normalized_mutual_info_score

GENDER_NAMES = {"f": "female", "m": "male", "u": "unknown"}


def breakdown(classes, predicted, label, emotion, speaker, gender) -> dict:
    """The tables above from per-utterance arrays: class names, predicted and true
    class indices, emotion names, speaker ids and gender codes."""
    predicted, label = np.asarray(predicted), np.asarray(label)
    emotion, speaker, gender = np.asarray(emotion), np.asarray(speaker), np.asarray(gender)
    per_emotion = {}
    for e in sorted(set(emotion)):
        here = emotion == e
        per_emotion[str(e)] = {
            "class": classes[int(label[here][0])],
            "n": int(here.sum()),
            "right": float((predicted[here] == label[here]).mean()),
        }
    per_speaker = {}
    for s in sorted(set(speaker)):
        here = speaker == s
        counts = np.bincount(predicted[here], minlength=len(classes))
        per_speaker[str(s)] = {
            "gender": str(gender[here][0]),
            "n": int(here.sum()),
            "predicted": {c: float(n / here.sum()) for c, n in zip(classes, counts, strict=True)},
        }
    return {
        "uar": float(balanced_accuracy_score(label, predicted)),
        "emotion": per_emotion,
        "speaker": per_speaker,
        "nmi_label": float(normalized_mutual_info_score(label, predicted)),
        "nmi_speaker": float(normalized_mutual_info_score(speaker, predicted)),
        "nmi_gender": float(normalized_mutual_info_score(gender, predicted)),
    }


def run_breakdown(workdir: Path) -> dict:
    from jaxser import experiment
    from jaxser.data import pipeline
    from jaxser.evaluation import report
    from jaxser.evaluation.predict import Predictions

    exp = experiment.restore(workdir)
    test = exp.data.target_test
    out = Predictions.of(exp, exp.state)("target_test")
    row = report.read_run(workdir)[0]
    return {
        "run": workdir.name,
        "method": row.method,
        "task": row.task,
        "label_space": row.label_space,
        "seed": row.seed,
        "results_uar": row.uar,
        **breakdown(
            exp.classes,
            out["probs"].argmax(1),
            out["labels"],
            test.emotion,
            [test.speakers[i] for i in test.speaker],
            [pipeline.GENDERS[i] for i in test.gender],
        ),
    }


def text(r: dict) -> str:
    lines = [
        f"{r['run']}: UAR {r['uar']:.4f} (results.json {r['results_uar']:.4f}); NMI of the "
        f"predictions with the labels {r['nmi_label']:.3f}, the speakers "
        f"{r['nmi_speaker']:.3f}, their gender {r['nmi_gender']:.3f}",
        "  right per emotion: "
        + "; ".join(
            f"{e} ({v['class']}, {v['n']}) {v['right']:.2f}" for e, v in r["emotion"].items()
        ),
        "  predicted per speaker: "
        + "; ".join(
            f"{s} ({GENDER_NAMES.get(v['gender'], v['gender'])}) "
            + " ".join(f"{c} {p:.2f}" for c, p in v["predicted"].items())
            for s, v in r["speaker"].items()
        ),
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="finished run folders")
    p.add_argument("--json", type=Path, help="also write every run's breakdown here")
    args = p.parse_args(argv)
    every = []
    for run in args.runs:
        if not (run / "results.json").is_file():
            print(f"skipped {run}: no results.json")
            continue
        every.append(run_breakdown(run))
        print(text(every[-1]))
    by_method = collections.defaultdict(list)
    for r in every:
        by_method[r["method"]].append(r)
    if len(every) > 1:
        for method, rows in by_method.items():
            means = {
                k: np.mean([r[k] for r in rows]) for k in ("nmi_label", "nmi_speaker", "nmi_gender")
            }
            print(
                f"{method} ({len(rows)} runs): "
                + ", ".join(f"{k} {v:.3f}" for k, v in means.items())
            )
    if args.json:
        args.json.write_text(json.dumps(every, indent=1) + "\n")


if __name__ == "__main__":
    main()
