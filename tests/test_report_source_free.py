"""Source-free runs in the sweep's tables: the source model's row, once per
(task, seed), first, and the group's baseline."""

import json

import numpy as np

from jaxser.evaluation import report


def fake_run(root, method, task, seed, uar, before):
    d = root / f"{method}-{task[0]}-{task[1]}-seed{seed}"
    d.mkdir()
    r = {
        "method": method,
        "source": task[0],
        "target": task[1],
        "label_space": "categorical",
        "protocol": "source_free",
        "selection": "last",
        "seed": seed,
        "uar": uar,
        "war": uar,
        "macro_f1": uar,
        "pred_balance": 0.9,
        "steps": 300,
        "before_adaptation": {
            "uar": before,
            "war": before,
            "macro_f1": before,
            "pred_balance": 0.8,
            "from": f"/models/source_model-{task[0]}-categorical-seed{seed}-abc",
        },
    }
    (d / "results.json").write_text(json.dumps(r))


def test_source_model_row_is_the_baseline_once_per_task_and_seed(tmp_path):
    tasks = [("a", "b"), ("b", "a")]
    before = {(t, s): 0.3 + 0.1 * i + 0.01 * s for i, t in enumerate(tasks) for s in (0, 1)}
    for m, gain in (("shot", 0.05), ("ecan", -0.02)):
        for (t, s), b in before.items():
            fake_run(tmp_path, m, t, s, b + gain + 0.001 * s, b)
    rows = report.collect(tmp_path).rows
    befores = [r for r in rows if r.method == report.BEFORE]
    assert len(rows) == 8 + 4 and len(befores) == 4  # once per (task, seed), not per method
    (g,) = report.groups(rows, ["shot", "ecan"])
    assert g.methods == [report.BEFORE, "shot", "ecan"] and g.baseline("x") == report.BEFORE
    np.testing.assert_allclose(g.mean_over_tasks(report.BEFORE), np.mean(list(before.values())))
    shot, ecan = g.against("shot", report.BEFORE), g.against("ecan", report.BEFORE)
    assert (shot["won"], ecan["won"]) == (2, 0)
    text = report.markdown([g])
    assert f"tasks won vs {report.BEFORE}" in text and "| pred_balance |" in text
