"""jaxser's modules and what each imports (read from the source, every import
statement, also those inside functions), with the checks that keep the layers:

    python tools/imports.py            # the table, then the checks (exit 1 on a violation)

Checks: no import cycle between modules, none between packages (a module
counts as its package: jaxser.training, jaxser.evaluation, ...), and the
layering rules of `RULES` (evaluation below training; losses pure maths; ...).
tests/test_imports.py runs the same checks.
"""

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (importer prefix, forbidden prefixes): a module under the first never imports the second.
RULES = [
    ("jaxser.evaluation", ("jaxser.training", "jaxser.experiment", "jaxser.train")),
    ("jaxser.training", ("jaxser.experiment", "jaxser.train", "jaxser.evaluate")),
    ("jaxser.methods", ("jaxser.training", "jaxser.evaluation", "jaxser.experiment")),
    ("jaxser.models", ("jaxser.methods", "jaxser.training", "jaxser.evaluation")),
    ("jaxser.losses", ("jaxser.models", "jaxser.methods", "jaxser.training", "jaxser.data")),
    ("jaxser.data", ("jaxser.models", "jaxser.methods", "jaxser.training", "jaxser.evaluation")),
    ("jaxser.config", ("jaxser.methods", "jaxser.models", "jaxser.training", "jaxser.data")),
]


def modules(root: Path, package: str = "jaxser") -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(root: Path, package: str = "jaxser") -> dict[str, set[str]]:
    """Module -> the package's modules it imports (`from a import b` counts as a.b
    when b is a module, else as a)."""
    mods = modules(root, package)
    graph = {}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    found.add(sub if sub in mods else base)
        graph[name] = {m for m in found if m in mods and m != name}
    return graph


def package_of(name: str, package: str = "jaxser") -> str:
    """jaxser.training.step -> jaxser.training; jaxser.experiment -> jaxser.experiment."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else name


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    pg = defaultdict(set)
    for a, targets in graph.items():
        pa = package_of(a)
        pg[pa] |= {package_of(b) for b in targets if package_of(b) != pa}
    return dict(pg)


def violations(graph: dict[str, set[str]], rules=RULES) -> list[str]:
    """Every broken rule and every cycle, as lines."""
    out = []
    for importer, forbidden in rules:
        for a, targets in sorted(graph.items()):
            if a == importer or a.startswith(importer + "."):
                for b in sorted(targets):
                    if any(b == f or b.startswith(f + ".") for f in forbidden):
                        out.append(f"{a} imports {b} (a module under {importer} must not)")
    out += [f"module cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    out += [f"package cycle: {' <-> '.join(c)}" for c in cycles(package_graph(graph))]
    return out


def main() -> None:
    graph = imports(ROOT)
    print("| module | imports (jaxser modules) |\n|---|---|")
    for name in sorted(graph):
        print(f"| {name} | {', '.join(sorted(graph[name])) or '-'} |")
    bad = violations(graph)
    ok = "no cycle (modules, packages); layering rules hold"
    print("\nchecks:", "; ".join(bad) if bad else ok)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
