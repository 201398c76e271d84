"""Out-of-distribution evaluation: does a model know when an utterance holds an
emotion it was never trained on?

`data.ood_classes` holds emotions out of training (jaxser/data/tasks.py); their
test utterances form the split `target_ood`, the trained emotions' test
utterances (`target_test`) are in-distribution. Every score is "higher = more
in-distribution", per utterance (windows averaged as in evaluation):

- `msp`: the maximum softmax probability (Hendrycks & Gimpel 2017);
- `max_logit`: the largest logit (Hendrycks et al. 2022);
- `energy`: logsumexp of the logits, the negative energy (Liu et al. 2020);
- `odin` (Liang et al. 2018): the maximum softmax at temperature T of the
  input perturbed by epsilon * sign of the gradient of the tempered
  log-max-softmax with respect to the input features (`train.odin_temperature`,
  `train.odin_epsilon`); with epsilon 0 and T = 1 it is `msp`;
- `mahalanobis` (Lee et al. 2018): minus the smallest Mahalanobis distance of
  the utterance's embedding (the model's "features") to a class mean of the
  source (training) embeddings, with their tied covariance;
- `max_cosine` (models with an AM-softmax head, MSAC-SERNet's; absent for
  others): the largest cosine between the utterance's embedding and a class
  weight of the head. An utterance of one window has max_cosine = max_logit /
  scale, the same ranking as `max_logit`; they differ only where an
  utterance's windows are averaged (logits average per-window cosines, this
  score takes the cosine of the averaged embedding).

Metrics (scikit-learn), in-distribution as the positive class: AUROC, the
false-positive rate of OOD utterances at 95% true-positive rate (`fpr95`),
AUPR-in (in-distribution positive) and AUPR-out (OOD positive, scores negated).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxser.models.msac import CLASS_WEIGHTS

SCORES = ("msp", "max_logit", "energy", "odin", "mahalanobis", "max_cosine")


def metrics(in_scores: np.ndarray, out_scores: np.ndarray) -> dict[str, float]:
    """AUROC, FPR at 95% TPR, AUPR-in and AUPR-out of scores (higher = in)."""
    from sklearn import metrics as skm  # seconds to import: only when OOD is evaluated

    y = np.concatenate([np.ones(len(in_scores)), np.zeros(len(out_scores))])
    s = np.concatenate([in_scores, out_scores]).astype(np.float64)
    fpr, tpr, _ = skm.roc_curve(y, s)
    return {
        "auroc": float(skm.roc_auc_score(y, s)),
        "fpr95": float(fpr[np.searchsorted(tpr, 0.95, side="left")]),
        "aupr_in": float(skm.average_precision_score(y, s)),
        "aupr_out": float(skm.average_precision_score(1 - y, -s)),
    }


def logit_scores(logits: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray]:
    """MSP, max logit and negative energy of per-utterance outputs."""
    from scipy import special  # seconds to import: only when OOD is evaluated

    return {
        "msp": probs.max(1),
        "max_logit": logits.max(1),
        "energy": special.logsumexp(logits, axis=1),
    }


def mahalanobis(
    train_features: np.ndarray, train_labels: np.ndarray, features: np.ndarray
) -> np.ndarray:
    """Minus the smallest Mahalanobis distance to a class mean of the training
    embeddings, under their tied (pooled within-class) covariance."""
    classes = np.unique(train_labels)
    means = np.stack([train_features[train_labels == c].mean(0) for c in classes])
    centred = train_features - means[np.searchsorted(classes, train_labels)]
    precision = np.linalg.pinv(centred.T @ centred / len(centred))
    diff = features[:, None, :] - means[None, :, :]  # N x C x D
    dist = np.einsum("ncd,de,nce->nc", diff, precision, diff)
    return -dist.min(1)


def max_cosine(features: np.ndarray, class_weights_DxC: np.ndarray) -> np.ndarray:
    """The largest cosine between each embedding and a class weight (column)."""
    f = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-8)
    w = class_weights_DxC / np.maximum(np.linalg.norm(class_weights_DxC, axis=0), 1e-8)
    return (f @ w).max(1)


def make_odin_forward(model, temperature: float, epsilon: float) -> Callable:
    """(variables, x, mask) -> (logits of the perturbed input / T, features), jitted:
    `predict_split` with it averages the tempered softmax over an utterance's windows."""

    def tempered(variables, x, mask):
        return model.apply(variables, x, mask, train=False)["logits"] / temperature

    def forward(variables, x, mask):
        def log_max_softmax(x):
            return jnp.sum(jnp.max(jax.nn.log_softmax(tempered(variables, x, mask)), -1))

        grad = jax.grad(log_max_softmax)(x)
        x_hat = x + epsilon * jnp.sign(grad)
        out = model.apply(variables, x_hat, mask, train=False)
        return out["logits"] / temperature, out["features"]

    return jax.jit(forward)


def evaluator(model, temperature: float, epsilon: float) -> Callable:
    """The `ood` evaluator of a model: (Predictions) -> results.json["ood"]."""
    odin_forward = make_odin_forward(model, temperature, epsilon)

    def ood(predictions) -> dict:
        from jaxser.evaluation.predict import predict_split  # TensorFlow: when it runs

        source = predictions("source")
        class_weights = predictions.variables["params"].get(CLASS_WEIGHTS)
        parts = (("in", "target_test"), ("out", "target_ood"))
        features = [predictions(split)["features"] for _, split in parts]
        # one fit of the class means and tied covariance serves both splits
        distance = mahalanobis(source["features"], source["labels"], np.concatenate(features))
        distances = np.split(distance, [len(features[0])])
        scores = {}
        for (name, split), maha in zip(parts, distances, strict=True):
            pred = predictions(split)
            s = logit_scores(pred["logits"], pred["probs"])
            odin = predict_split(
                odin_forward,
                predictions.variables,
                getattr(predictions.data, split),
                predictions.batch_size,
                predictions.crop_frames,
                predictions.mesh,
            )
            s["odin"] = odin["probs"].max(1)
            s["mahalanobis"] = maha
            if class_weights is not None:
                s["max_cosine"] = max_cosine(pred["features"], np.asarray(class_weights))
            scores[name] = s
        result = {
            "ood_classes": list(predictions.data.task.ood),
            "n_in": len(scores["in"]["msp"]),
            "n_out": len(scores["out"]["msp"]),
            "odin_temperature": temperature,
            "odin_epsilon": epsilon,
        }
        for key in scores["in"]:
            result[key] = metrics(scores["in"][key], scores["out"][key])
        result["scores"] = {k: {n: scores[n][k].tolist() for n in scores} for k in scores["in"]}
        return result

    return ood
