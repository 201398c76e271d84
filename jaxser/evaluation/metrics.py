"""Classification metrics: UAR (primary), WAR, macro-F1, per-class recall, confusion."""

from collections.abc import Sequence

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """[true class, predicted class] counts."""
    m = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def summarize(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict:
    """UAR = mean recall over the classes present in y_true; WAR = accuracy;
    macro-F1 over the same classes (a class never predicted has F1 0)."""
    m = confusion(y_true, y_pred, len(classes))
    support = m.sum(1)
    predicted = m.sum(0)
    present = support > 0
    recall = np.divide(np.diag(m), support, out=np.zeros(len(classes)), where=present)
    precision = np.divide(np.diag(m), predicted, out=np.zeros(len(classes)), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(len(classes)), where=denom > 0)
    return {
        "uar": float(recall[present].mean()),
        "war": float(np.diag(m).sum() / max(m.sum(), 1)),
        "macro_f1": float(f1[present].mean()),
        "per_class_recall": {
            c: float(r) for c, r, p in zip(classes, recall, present, strict=True) if p
        },
        "confusion": m.tolist(),
        "classes": list(classes),
        "pred_balance": prediction_balance(predicted),
    }


def prediction_balance(counts_C: np.ndarray) -> float:
    """Normalised entropy of how many utterances are predicted as each class: 1 when
    every class is predicted equally often, 0 when all go to one class. Needs no
    labels, so it can flag a collapse on an unlabelled target."""
    counts = np.asarray(counts_C, np.float64)
    if counts.size < 2 or counts.sum() == 0:
        return 0.0
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum() / np.log(counts.size))
