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
"""

import numpy as np

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
