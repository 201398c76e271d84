"""Evaluators: functions of a run's `Predictions` -> a dict for results.json.

`classification` always runs: its metrics on the target test utterances are
the top level of results.json. `label_free` always runs too: scores of the
predictions on the target utterances adapted on, for model selection without
labels (it reads none). Others are added by name (`config.train.evaluators`) or
by a method (`Method.evaluators`) and land under their name. Scalars of every
evaluator are logged at each evaluation as `<name>/<key>` (classification's
without prefix).
"""

from collections.abc import Callable

from jaxser.config import ConfigError
from jaxser.config import names as config_names
from jaxser.evaluation import metrics
from jaxser.evaluation import selection as selection_scores

# (predictions: jaxser.evaluation.predict.Predictions) -> dict
Evaluator = Callable[..., dict]


def _summary(predictions, split: str) -> dict:
    pred = predictions(split)
    return metrics.summarize(pred["labels"], pred["probs"].argmax(1), predictions.classes)


def classification(predictions) -> dict:
    """UAR, WAR, macro-F1, per-class recall, confusion, pred_balance on the target
    test utterances (model selection: none; the caller's step)."""
    return _summary(predictions, "target_test")


def source(predictions) -> dict:
    """The same metrics on the source corpus: how well the model fits what it
    learned from (a run that fits the source but not the target has a gap; one
    that fits neither has a training problem)."""
    return _summary(predictions, "source")


def label_free(predictions) -> dict:
    """Label-free scores of the predictions on the target utterances adapted on
    (`jaxser/evaluation/selection.py`): information maximisation `im`, soft
    neighbourhood density `snd`, mean normalised entropy `entropy`."""
    return selection_scores.scores(predictions("target_adapt")["probs"])


def validation(predictions) -> dict:
    """On the source speakers held out of training (`data.source_val`): UAR and
    loss, and the `iwcv` and `dev` risks weighted towards the target by a
    domain classifier on the embeddings (jaxser/evaluation/selection.py). Reads
    the validation labels only; the target's are never read."""
    return selection_scores.validation_scores(
        predictions("source_val"), predictions("source"), predictions("target_adapt")
    )


ALWAYS: dict[str, Evaluator] = {"classification": classification, "label_free": label_free}
EVALUATORS: dict[str, Evaluator] = ALWAYS | {"source": source}
# on when the run holds out source speakers (`data.source_val` > 0)
VALIDATION: dict[str, Evaluator] = {"validation": validation}


def from_config(spec: str) -> dict[str, Evaluator]:
    """Classification and label_free, then the comma-separated names of `spec`."""
    names = [n for n in config_names(spec) if n not in ALWAYS]
    unknown = [n for n in names if n not in EVALUATORS]
    if unknown:
        raise ConfigError(
            f"unknown evaluator(s) {unknown} in config.train.evaluators; "
            f"known: {sorted(EVALUATORS)}"
        )
    return ALWAYS | {n: EVALUATORS[n] for n in names}


def run(evaluators: dict[str, Evaluator], predictions) -> dict[str, dict]:
    return {name: fn(predictions) for name, fn in evaluators.items()}


def scalars(results: dict[str, dict]) -> dict[str, float]:
    """The scalars to log: classification's UAR, WAR, macro-F1 and pred_balance,
    and every other evaluator's top-level numbers as `<name>/<key>`."""
    keys = ("uar", "war", "macro_f1", "pred_balance")
    out = {k: results["classification"][k] for k in keys}
    for name, r in results.items():
        if name != "classification":
            out |= {f"{name}/{k}": v for k, v in r.items() if isinstance(v, int | float)}
    return out
