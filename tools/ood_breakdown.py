"""Where do a model's out-of-distribution utterances go? A per-class breakdown.

    python tools/ood_breakdown.py runs/ood/msac-*-fold*-seed0

For each finished run with `data.ood_classes`: the classes its held-out
(OOD) test utterances are predicted as, and the mean maximum softmax
probability (MSP) per trained class and over the OOD utterances. An OOD
score fails (AUROC under 0.5) when held-out emotions land, confidently,
inside a trained class while some trained classes are predicted with less
confidence.
"""

import argparse
import collections
from pathlib import Path


def breakdown(workdir: Path) -> dict:
    from jaxser import experiment
    from jaxser.evaluation.predict import Predictions

    exp = experiment.restore(workdir)
    predictions = Predictions.of(exp, exp.state)
    classes = exp.classes
    test, ood = predictions("target_test"), predictions("target_ood")
    msp = {
        c: float(test["probs"][test["labels"] == i].max(1).mean()) for i, c in enumerate(classes)
    }
    predicted = collections.Counter(classes[i] for i in ood["probs"].argmax(1))
    return {
        "run": workdir.name,
        "in_msp": msp,
        "ood_msp": float(ood["probs"].max(1).mean()),
        "ood_predicted_as": dict(predicted.most_common()),
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="finished run folders with OOD results")
    args = p.parse_args(argv)
    for run in args.runs:
        r = breakdown(run)
        print(r["run"])
        print(
            "  mean MSP per trained class: "
            + ", ".join(f"{c} {v:.2f}" for c, v in r["in_msp"].items())
        )
        print(f"  mean MSP of OOD utterances: {r['ood_msp']:.2f}")
        print(
            "  OOD utterances predicted as: "
            + ", ".join(f"{c} {n}" for c, n in r["ood_predicted_as"].items())
        )


if __name__ == "__main__":
    main()
