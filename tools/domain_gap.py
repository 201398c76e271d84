"""How large is the domain gap of a corpus pair? A simple-classifier check.

    python tools/domain_gap.py --source synth_emodb --target synth_casia

Utterance statistics (per-bin mean and std of the log-mel over time, plus
duration) and a logistic regression, on the classes both corpora share:
- within: 5-fold cross-validated UAR inside each corpus;
- cross: trained on one corpus, tested on the other (both directions);
- normalised: cross, after standardising each corpus's statistics with its own
  mean and std (the simplest domain adaptation).
A corpus pair with a real, closable gap has within >> cross and normalised
between the two.
"""

import argparse
import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from jaxser.data import corpora, labels, pipeline, store
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


def gap(source: str, target: str, data_dir=None, features=FeatureConfig()) -> dict:
    """Within / cross / normalised UAR of the pair, both directions."""
    a, b = (pipeline.load_corpus(n, data_dir, features) for n in (source, target))
    classes = labels.shared_classes(
        source, corpora.get(source).emotions, target, corpora.get(target).emotions
    )
    sets = {}
    for d in (a, b):
        keep = np.isin(d.emotion, classes)
        sets[d.name] = (utterance_stats(d)[keep], np.searchsorted(classes, d.emotion[keep]))
    out = {
        "source": source,
        "target": target,
        "classes": list(classes),
        "within": {},
        "cross": {},
        "normalised": {},
    }
    for name, (x, y) in sets.items():
        out["within"][name] = within_uar(x, y)
    for s, t in ((source, target), (target, source)):
        (xs, ys), (xt, yt) = sets[s], sets[t]
        out["cross"][f"{s}->{t}"] = _uar(yt, _classifier().fit(xs, ys).predict(xt))
        out["normalised"][f"{s}->{t}"] = _uar(
            yt, _classifier().fit(_zscore(xs), ys).predict(_zscore(xt))
        )
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
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args()
    r = gap(args.source, args.target, args.data_dir)
    if args.json:
        print(json.dumps(r, indent=1))
        return
    print(f"classes: {' '.join(r['classes'])}")
    print(f"{'':28s} {'UAR':>6s}")
    for k in ("within", "cross", "normalised"):
        for name, v in r[k].items():
            print(f"{k + ' ' + name:28s} {v:6.3f}")
    print(
        f"mean: within {r['mean_within']:.3f}  cross {r['mean_cross']:.3f}  "
        f"normalised {r['mean_normalised']:.3f}"
    )


if __name__ == "__main__":
    main()
