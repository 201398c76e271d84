"""Label-free scores of a model's predictions on its unlabelled target, for
model selection without target labels (computed at every evaluation; the
default selection stays the last step, see docs/design.md).

- `information_maximization`: H(mean prediction) - mean H(prediction), over
  log C: 1 for confident predictions spread evenly over the classes, 0 for a
  collapse onto one class or for uniform predictions (SHOT's objective, Liang
  et al. 2020, as a score). Higher is better.
- `soft_neighborhood_density`: SND (Saito et al. 2021): the mean entropy of
  each utterance's softmax over its cosine similarities to every other
  utterance, in the space of L2-normalised softmax outputs, temperature 0.05.
  Higher is better.
- `mean_entropy`: mean H(prediction) / log C. Lower is more confident.

Scores of a labelled source validation split (whole speakers held out of
training, `data.source_val`), weighted towards the target:
- `importance_weights`: w(x) = p(target | x) / p(source | x) * n_source /
  n_target, from a logistic-regression domain classifier (scikit-learn,
  features standardised) fit on the embeddings of the training source against
  the unlabelled target, applied to the validation utterances;
- `iwcv`: importance-weighted validation loss, mean(w * loss) (Sugiyama et
  al. 2007). Lower is better;
- `dev`: Deep Embedded Validation (You et al. 2019): the same with the
  control variate eta = -Cov(w * loss, w) / Var(w), mean(w * loss) +
  eta * mean(w) - eta. Lower is better.
"""

import numpy as np

from jaxser.evaluation import metrics

_EPS = 1e-12


def entropy(probs_NC: np.ndarray) -> np.ndarray:
    """Per row, in nats."""
    p = np.asarray(probs_NC, np.float64)
    return -(p * np.log(p + _EPS)).sum(-1)


def mean_entropy(probs_NC: np.ndarray) -> float:
    return float(entropy(probs_NC).mean() / np.log(probs_NC.shape[1]))


def information_maximization(probs_NC: np.ndarray) -> float:
    p = np.asarray(probs_NC, np.float64)
    return float((entropy(p.mean(0)) - entropy(p).mean()) / np.log(p.shape[1]))


def soft_neighborhood_density(probs_NC: np.ndarray, temperature: float = 0.05) -> float:
    p = np.asarray(probs_NC, np.float64)
    n = len(p)
    if n < 2:
        return 0.0
    z = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), _EPS)
    sim = z @ z.T / temperature
    sim = sim[~np.eye(n, dtype=bool)].reshape(n, n - 1)  # never its own neighbour
    sim -= sim.max(1, keepdims=True)
    soft = np.exp(sim)
    soft /= soft.sum(1, keepdims=True)
    return float(entropy(soft).mean())


def scores(probs_NC: np.ndarray) -> dict[str, float]:
    return {
        "im": information_maximization(probs_NC),
        "snd": soft_neighborhood_density(probs_NC),
        "entropy": mean_entropy(probs_NC),
    }


def importance_weights(
    source_ND: np.ndarray, target_MD: np.ndarray, val_VD: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Density ratios p_target(x) / p_source(x) of the validation embeddings, from a
    domain classifier fit on the (training) source against the target embeddings."""
    from sklearn.linear_model import LogisticRegression  # only when a run validates
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([source_ND, target_MD]).astype(np.float64)
    y = np.concatenate([np.zeros(len(source_ND)), np.ones(len(target_MD))])
    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    clf.fit(scaler.transform(x), y)
    p = clf.predict_proba(scaler.transform(np.asarray(val_VD, np.float64)))[:, 1]
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return p / (1 - p) * len(source_ND) / len(target_MD)


def iwcv(weights: np.ndarray, losses: np.ndarray) -> float:
    return float(np.mean(weights * losses))


def dev(weights: np.ndarray, losses: np.ndarray) -> float:
    weighted = weights * losses
    var = np.var(weights, ddof=1) if len(weights) > 1 else 0.0
    eta = -np.cov(weighted, weights)[0, 1] / var if var > 0 else 0.0
    return float(np.mean(weighted) + eta * np.mean(weights) - eta)


def validation_scores(val: dict, source: dict, target: dict) -> dict[str, float]:
    """Source validation UAR and loss, and its `iwcv` and `dev` risks, from the
    predictions (probs, features, labels) of the validation split, the
    training source and the target (its labels unread)."""
    probs, labels = np.asarray(val["probs"], np.float64), np.asarray(val["labels"])
    losses = -np.log(probs[np.arange(len(labels)), labels] + _EPS)
    w = importance_weights(source["features"], target["features"], val["features"])
    summary = metrics.summarize(labels, probs.argmax(1), tuple(range(probs.shape[1])))
    return {
        "uar": summary["uar"],
        "loss": float(losses.mean()),
        "iwcv": iwcv(w, losses),
        "dev": dev(w, losses),
        "weight_max": float(w.max() / w.mean()),
    }
