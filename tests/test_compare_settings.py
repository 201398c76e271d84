"""tools/compare_settings.py: a variant's runs paired with the reference's by
(task, seed); the logged terms of each."""

import json

import compare_settings
import fakes
import numpy as np
import pytest
from scipy import stats


def fake_folder(out, method, uars, logs, draw=0):
    """Run folders as a `--search` sweep writes them: uars[task] per seed, and a
    metrics.jsonl whose training lines hold `logs` (key -> values in order)."""
    for task, values in uars.items():
        source, target = task.split(" -> ")
        for seed, uar in enumerate(values):
            d = out / f"{method}-{source}-{target}-draw{draw}-seed{seed}"
            b = 0.05 if uar < 0.3 else 0.9
            fakes.finished_run(d, method, task, seed, uar, b, {"method": method, "draw": draw})
            n = max((len(v) for v in logs.values()), default=0)
            lines = [
                {"step": i, "kind": "train", **{k: v[i] for k, v in logs.items()}} for i in range(n)
            ]
            lines.append({"step": n, "kind": "eval", "pseudo/accuracy": uar})
            (d / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


REF = {"a -> b": [0.50, 0.52, 0.47], "b -> a": [0.40, 0.41, 0.39]}
OFF = {"a -> b": [0.45, 0.50, 0.40], "b -> a": [0.52, 0.20, 0.60]}


def test_the_variant_is_paired_with_the_reference_and_its_logs_summarised(tmp_path):
    ref, off = tmp_path / "ref", tmp_path / "off"
    fake_folder(ref, "didan", REF, {"loss/ida": [4.0, 3.0, 2.0, 1.0]})
    fake_folder(ref, "didan", {"a -> b": [0.9]}, {}, draw=3)  # another draw: not the reference
    fake_folder(ref, "mmd", {"a -> b": [0.9]}, {})  # another method
    fake_folder(off, "didan", OFF, {"loss/reg": [2.0, 2.0, 2.0, 2.0, 8.0, 6.0, 6.0, 6.0]})
    text = compare_settings.table("didan", [ref, off], ["loss/ida", "loss/reg", "pseudo/accuracy"])
    ref_line, off_line = text.splitlines()[2:]
    diff = [o - r for t in REF for o, r in zip(OFF[t], REF[t], strict=True)]
    p = stats.wilcoxon(diff).pvalue
    mean = lambda u: np.mean([np.mean(v) for v in u.values()])  # noqa: E731
    # reference: 6 runs (not draw 3's, not mmd's), ida over the last quarter of
    # its 4 steps (1.0), no loss/reg logged, the last eval's pseudo accuracy
    assert ref_line.split(" | ")[1:8] == ["6", f"{mean(REF):.3f}", "-", "-", "-", "0", "1"]
    assert ref_line.split(" | ")[8] == "-"
    assert ref_line.split(" | ")[9].rstrip(" |") == f"{np.mean(sum(REF.values(), [])):.4g}"
    cells = off_line.split(" | ")
    assert cells[1:7] == ["6", f"{mean(OFF):.3f}", f"{mean(REF):.3f}", "1/2", f"{p:.3g} (6)", "1"]
    assert cells[7] == "-" and cells[8] == "6"  # last quarter of 8 steps: mean(6, 6)


def test_an_empty_reference_is_refused(tmp_path):
    fake_folder(tmp_path / "ref", "mmd", REF, {})
    with pytest.raises(SystemExit, match="no finished didan runs of draw 0"):
        compare_settings.table("didan", [tmp_path / "ref"], [])
