"""Is leave-one-speaker-out hard because of a speaker's baseline? A simple-classifier check.

    python tools/speaker_gap.py --corpus synth_emodb

Utterance statistics and the logistic regression of tools/domain_gap.py, one
fold per speaker (trained on the others, tested on that speaker), on the raw
statistics and after standardising each speaker's statistics with that
speaker's own mean and std (no labels read). Prints each speaker's UAR and the
mean of both.
"""

import argparse

import numpy as np
from domain_gap import _classifier, utterance_stats
from sklearn.metrics import balanced_accuracy_score

from jaxser.data import store


def per_speaker(x: np.ndarray, speaker: np.ndarray) -> np.ndarray:
    """Each speaker's rows standardised with that speaker's mean and std."""
    out = x.copy()
    for s in np.unique(speaker):
        m = speaker == s
        out[m] = (x[m] - x[m].mean(0)) / (x[m].std(0) + 1e-6)
    return out


def loso_uar(x: np.ndarray, y: np.ndarray, speaker: np.ndarray) -> dict[str, float]:
    """Speaker -> UAR of the classifier trained on every other speaker."""
    out = {}
    for s in sorted(np.unique(speaker)):
        test = speaker == s
        clf = _classifier().fit(x[~test], y[~test])
        out[str(s)] = float(balanced_accuracy_score(y[test], clf.predict(x[test])))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="synth_emodb")
    args = p.parse_args(argv)
    d = store.load(args.corpus)
    x = utterance_stats(d)
    for name, feats in (("raw", x), ("per-speaker", per_speaker(x, d.speaker))):
        uar = loso_uar(feats, d.emotion, d.speaker)
        cells = " ".join(f"{s}:{u:.2f}" for s, u in uar.items())
        print(f"{name}: {cells} | mean {np.mean(list(uar.values())):.3f}")


if __name__ == "__main__":
    main()
