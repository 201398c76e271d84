"""The layers hold: no import cycle between jaxser's modules or packages,
evaluation below training, losses pure maths (tools/imports.py's checks)."""

import imports


def test_jaxser_has_no_cycle_and_keeps_its_layers():
    graph = imports.imports(imports.ROOT)
    assert len(graph) > 40 and "jaxser.training.step" in graph["jaxser.experiment"]
    assert imports.violations(graph) == []
    # evaluation below training: training uses it, never the other way
    assert "jaxser.evaluation.predict" in graph["jaxser.training.loop"]


def test_the_checks_see_a_cycle_a_hidden_import_and_a_broken_layer(tmp_path):
    pkg = tmp_path / "jaxser"
    for sub in ("evaluation", "training"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "training" / "loop.py").write_text("from jaxser.evaluation import report\n")
    # an import hidden inside a function still counts
    (pkg / "evaluation" / "report.py").write_text(
        "def f():\n    from jaxser.training import loop\n    return loop\n"
    )
    bad = imports.violations(imports.imports(tmp_path))
    assert any("jaxser.evaluation.report imports jaxser.training.loop" in b for b in bad)
    assert any(b.startswith("module cycle") and "jaxser.training.loop" in b for b in bad)
    assert any(b.startswith("package cycle") for b in bad)
