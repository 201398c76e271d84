"""How large is the domain gap of a corpus pair? A simple-classifier check.

    python tools/domain_gap.py --source synth_emodb --target synth_casia
    python tools/domain_gap.py --source synth_casia --target synth_emovo --label_space valence

Utterance statistics (per-bin mean and std of the log-mel over time, plus
duration) and a logistic regression, on the task's classes (categorical: the
emotions both corpora share; arousal, valence: the two halves, every emotion of
each corpus in its half, as training maps them, `jaxser/data/tasks.py`):
- within: 5-fold cross-validated UAR inside each corpus;
- cross: trained on one corpus, tested on the other (both directions);
- normalised: cross, after standardising each corpus's statistics with its own
  mean and std (the simplest domain adaptation).
A corpus pair with a real, closable gap has within >> cross and normalised
between the two. Per target emotion, the share of its utterances the cross and
normalised classifiers put in the right class (`per_emotion`): in a binary
space, which emotions the source's cue sends to the wrong half.
"""

import argparse
import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from jaxser.data import pipeline, store, tasks
from jaxser.data.features import FeatureConfig


def utterance_stats(data: store.CorpusData) -> np.ndarray:
    rows = []
    for i in range(len(data)):
        x = data.utterance(i)
        rows.append(np.concatenate([x.mean(0), x.std(0), [np.log(len(x))]]))
    return np.asarray(rows)


def _classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5))


def _uar(y_true, y_pred) -> float:
    return float(balanced_accuracy_score(y_true, y_pred))


def within_uar(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    pred = np.empty_like(y)
    for train, test in folds.split(x, y):
        pred[test] = _classifier().fit(x[train], y[train]).predict(x[test])
    return _uar(y, pred)


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(0)) / (x.std(0) + 1e-8)


def gap(
    source: str,
    target: str,
    data_dir=None,
    features=FeatureConfig(),
    label_space: str = "categorical",
) -> dict:
    """Within / cross / normalised UAR of the pair, both directions, and per target
    emotion the share put in its class."""
    task = tasks.Task(source, target, label_space=label_space, data_dir=data_dir or "")
    mapping = tasks.mapping(task)  # class -> emotions; raises on an unknown space
    classes = list(mapping)
    class_of = {e: i for i, c in enumerate(classes) for e in mapping[c]}
    a, b = (pipeline.load_corpus(n, data_dir, features) for n in (source, target))
    sets = {}
    for d in (a, b):
        keep = np.isin(d.emotion, list(class_of))
        y = np.asarray([class_of[e] for e in d.emotion[keep]])
        sets[d.name] = (utterance_stats(d)[keep], y, d.emotion[keep])
    out = {
        "source": source,
        "target": target,
        "label_space": label_space,
        "classes": classes,
        "within": {},
        "cross": {},
        "normalised": {},
        "per_emotion": {},
    }
    for name, (x, y, _) in sets.items():
        out["within"][name] = within_uar(x, y)
    for s, t in ((source, target), (target, source)):
        (xs, ys, _), (xt, yt, et) = sets[s], sets[t]
        direction = f"{s}->{t}"
        cross = _classifier().fit(xs, ys).predict(xt)
        normalised = _classifier().fit(_zscore(xs), ys).predict(_zscore(xt))
        out["cross"][direction] = _uar(yt, cross)
        out["normalised"][direction] = _uar(yt, normalised)
        out["per_emotion"][direction] = {
            str(e): {
                "class": classes[class_of[e]],
                "n": int((et == e).sum()),
                "cross": float((cross == yt)[et == e].mean()),
                "normalised": float((normalised == yt)[et == e].mean()),
            }
            for e in sorted(set(et))
        }
    for k in ("within", "cross", "normalised"):
        out[f"mean_{k}"] = float(np.mean(list(out[k].values())))
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--source", default="synth_emodb")
    p.add_argument("--target", default="synth_casia")
    p.add_argument("--data_dir", default=None)
    p.add_argument(
        "--label_space", default="categorical", help="categorical (default), arousal or valence"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args()
    r = gap(args.source, args.target, args.data_dir, label_space=args.label_space)
    if args.json:
        print(json.dumps(r, indent=1))
        return
    print(f"{r['label_space']} classes: {' '.join(r['classes'])}")
    print(f"{'':28s} {'UAR':>6s}")
    for k in ("within", "cross", "normalised"):
        for name, v in r[k].items():
            print(f"{k + ' ' + name:28s} {v:6.3f}")
    print(
        f"mean: within {r['mean_within']:.3f}  cross {r['mean_cross']:.3f}  "
        f"normalised {r['mean_normalised']:.3f}"
    )
    print("\nshare of each target emotion put in its class (cross / normalised):")
    for direction, per in r["per_emotion"].items():
        cells = [f"{e} ({v['class']}, {v['n']}) {v['cross']:.2f}/{v['normalised']:.2f}"
                 for e, v in per.items()]  # fmt: skip
        print(f"{direction}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
