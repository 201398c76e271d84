"""OOD results in the sweep's tables: each score's metrics, mean +- std over folds."""

import csv
import json

import pytest

from jaxser.evaluation import report


def fake_loso_run(root, method, fold, auroc, with_cosine):
    d = root / f"{method}-synth_emodb-fold{fold}-seed0"
    d.mkdir()
    scores = {"msp": auroc, "energy": auroc - 0.1} | ({"max_cosine": auroc} if with_cosine else {})
    r = {
        "method": method,
        "source": "synth_emodb",
        "target": "synth_emodb",
        "protocol": "loso",
        "fold": fold,
        "seed": 0,
        "uar": 0.5,
        "war": 0.5,
        "macro_f1": 0.5,
        "pred_balance": 0.9,
        "steps": 300,
        "ood": {
            "ood_classes": ["boredom", "disgust"],
            "n_in": 15,
            "n_out": 6,
            "odin_temperature": 1000.0,
            **{
                k: {"auroc": v, "fpr95": 1 - v, "aupr_in": v, "aupr_out": v / 2}
                for k, v in scores.items()
            },
        },
    }
    (d / "results.json").write_text(json.dumps(r))


def test_ood_table_mean_and_std_over_folds(tmp_path):
    for fold, auroc in enumerate((0.6, 0.8)):
        fake_loso_run(tmp_path, "msac", fold, auroc, with_cosine=True)
        fake_loso_run(tmp_path, "source_only", fold, auroc - 0.2, with_cosine=False)
    rows = report.ood_rows(report.collect(tmp_path).rows)
    assert len(rows) == 2 * 3 + 2 * 2  # scores per run: msac 3, source_only 2
    text = report.write(tmp_path)
    assert "### OOD: synth_emodb (loso), held out: boredom,disgust" in text
    # msac msp: AUROC 0.6, 0.8 -> 0.700 +- 0.141; FPR95 0.4, 0.2 -> 0.300 +- 0.141
    assert (
        "| msac | msp | 0.700 +- 0.141 | 0.300 +- 0.141 | 0.700 +- 0.141 | 0.350 +- 0.071 | 2 |"
        in text
    )
    assert "| source_only | energy | 0.400 +- 0.141 |" in text
    assert "| source_only | max_cosine |" not in text
    with open(tmp_path / "ood.csv") as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == 10
    assert float(lines[0]["auroc"]) == pytest.approx(0.6) and lines[0]["score"] == "msp"


def test_no_ood_table_without_ood_results(tmp_path):
    fake_loso_run(tmp_path, "msac", 0, 0.7, with_cosine=False)
    r = json.loads((tmp_path / "msac-synth_emodb-fold0-seed0" / "results.json").read_text())
    del r["ood"]
    (tmp_path / "msac-synth_emodb-fold0-seed0" / "results.json").write_text(json.dumps(r))
    assert "OOD" not in report.write(tmp_path)
    assert not (tmp_path / "ood.csv").exists()
