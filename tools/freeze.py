"""Freeze each method's setting from the development search: print what a config's
`frozen()` should hold, or check that it holds it.

    python tools/freeze.py docs/searches/*.jsonl.gz                # print
    python tools/freeze.py docs/searches/*.jsonl.gz --write        # into configs/*.py
    python tools/freeze.py docs/searches/*.jsonl.gz --check        # exit 1 on a mismatch

Reads the development search's candidates files (as tools/protocol.py does) and,
per (label space, protocol) of each method whose development cells are all
done, in all of them (`protocol.coverage`), takes the draw `model_selection.frozen` picks under
`--rule` (default `oracle`: the best mean rank of target UAR at the last step
over the development cells; the development tasks' labels may be read, so the
rule is named, never hidden). Its values are those the runs ran with (each
candidate's `values`, `--set` overrides included); draw 0 freezes nothing (the
config's own defaults). A config file applies its `frozen()` in
`jaxser.config.load` for the label space and protocol a run ends up with.

`--write` writes each such method's `frozen()` into its config file (replacing
the one there), with the draw and its mean target UAR beside each entry.
`--check` compares every config's `frozen()` with that choice: an entry that
differs, one for a label space and protocol whose search is not complete, or
a complete search's choice not written, fails.
"""

import argparse
import ast
import collections
import json
import sys
from pathlib import Path

import protocol

from jaxser import config as config_lib
from jaxser.evaluation import model_selection


def chosen(cands: list, rule: str = "oracle", draws: int = 8) -> dict[tuple[str, str], dict]:
    """(method, frozen key) -> {"draw", "uar", "cells", "setting": {key: value}} for
    every (label space, protocol) of a method whose development cells are all done,
    in every label space and protocol it is searched in."""
    old = protocol.stale(cands)
    cands = [c for c in cands if c.row.run not in old]  # what a draw names today only
    rows = protocol.coverage(cands, draws)
    # only a method whose every development search is done: freezing edits its config
    # file, whose bytes name its runs, so a search of it left to run would start over
    waiting = {r["method"] for r in rows if r["done"] < r["cells"]}
    complete = {(r["method"], r["space"]) for r in rows if r["method"] not in waiting}
    last = collections.defaultdict(list)
    for c in cands:
        if c.last:
            last[c.row.label_space, c.row.protocol, c.row.method, c.draw].append(c)
    out = {}
    for (space, proto, method), (draw, _, uar) in model_selection.frozen(rule, cands).items():
        # a source-free run's results name its protocol "source_free"; its data (the
        # config's data.protocol, what frozen() is keyed by) are transductive here
        key = config_lib.frozen_key(space, "transductive" if proto == "source_free" else proto)
        if (method, key) not in complete:
            continue
        runs = last[space, proto, method, draw]
        values = [{k: json.loads(v) for k, v in c.values.items()} for c in runs]
        if draw and any(v != values[0] for v in values):
            raise ValueError(f"{method} {key}: draw {draw}'s runs ran with different values")
        out[method, key] = {
            "draw": draw,
            "uar": uar,
            "cells": len(runs),
            "setting": values[0] if draw else {},
        }
    return out


def declared(method: str) -> dict[str, dict]:
    """The `frozen()` of configs/<method>.py ({} if it declares none)."""
    path = f"configs/{method}.py"
    return config_lib.frozen_settings(config_lib.load_module(path), path)


def check(choices: dict) -> list[str]:
    """One line per (method, frozen key) that a config declares otherwise than the
    search chose, declares for a search not complete, or does not declare for a
    complete one."""
    bad = []
    for method in sorted({m for m, _ in choices} | set(protocol.all_methods())):
        have = declared(method)
        for key, setting in have.items():
            want = choices.get((method, key))
            if want is None:
                bad.append(f"{method} {key}: frozen in its config, but its search is not complete")
            elif setting != want["setting"]:
                bad.append(f"{method} {key}: config holds {setting}, the search chose "
                           f"draw {want['draw']}: {want['setting']}")  # fmt: skip
        for (m, key), want in choices.items():
            if m == method and key not in have:
                bad.append(f"{method} {key}: its search is complete and chose draw "
                           f"{want['draw']}, not in its frozen() yet (--write)")  # fmt: skip
    return bad


def _literal(value) -> str:
    """`value` as Python source the way ruff formats it (double-quoted strings)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def source(entries: dict, rule: str) -> str:
    """The `frozen()` function of a config file holding `entries` (frozen key ->
    `chosen`'s choice), with its evidence."""
    lines = [  # what frozen() means is said once, in jaxser/config.py and the README
        "def frozen():",
        f'    """Chosen by `{rule}` on the development tasks (tools/freeze.py)."""',
        "    return {",
    ]
    for key, c in sorted(entries.items()):
        lines.append(f"        # draw {c['draw']}: mean target UAR {c['uar']:.3f} over "
                     f"{c['cells']} cells")  # fmt: skip
        if not c["setting"]:
            lines.append(f"        {_literal(key)}: {{}},")
            continue
        lines.append(f"        {_literal(key)}: {{")
        lines += [f"            {_literal(k)}: {_literal(v)}," for k, v in c["setting"].items()]
        lines.append("        },")
    lines.append("    }")
    return "\n".join(lines) + "\n"


def write(path: Path, entries: dict, rule: str) -> Path:
    """The config file `path` with its `frozen()` (replaced, or added at the end)."""
    text = path.read_text()
    new = source(entries, rule)
    fn = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == "frozen"]
    if fn:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[: fn[0].lineno - 1]) + new + "".join(lines[fn[0].end_lineno :])
    else:
        text = text.rstrip("\n") + "\n\n\n" + new
    path.write_text(text)
    return path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", type=Path, help="the development search's candidates")
    p.add_argument("--rule", default="oracle", choices=list(model_selection.RULES))
    p.add_argument("--draws", type=int, default=8)
    p.add_argument("--check", action="store_true", help="compare with the configs' frozen()")
    p.add_argument("--write", action="store_true", help="write each config's frozen()")
    args = p.parse_args(argv)
    cands, _ = model_selection.combine(*(model_selection.load(f) for f in args.files))
    choices = chosen(cands, args.rule, args.draws)
    by_method = collections.defaultdict(dict)
    for (method, key), c in choices.items():
        by_method[method][key] = c
    for method, entries in by_method.items():
        if args.write:
            path = config_lib.resolve_file(f"configs/{method}.py")
            print(f"wrote {write(path, entries, args.rule)}")
        have = declared(method)
        print(f"# configs/{method}.py, chosen by `{args.rule}` on the development tasks")
        print("def frozen():\n    return {")
        for key, c in entries.items():
            if have.get(key, {}) == c["setting"]:
                state = "written" if c["setting"] else "the config's own: nothing to write"
            else:
                state = "NOT written"
            print(f"        {key!r}: {c['setting']!r},  # draw {c['draw']}, mean target UAR "
                  f"{c['uar']:.3f} over {c['cells']} cells ({state})")  # fmt: skip
        print("    }\n")
    if args.check:
        bad = check(choices)
        for line in bad:
            print(line, file=sys.stderr)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
