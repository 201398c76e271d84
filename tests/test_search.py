"""Search spaces and draws (jaxser/search.py), and the sweep's search runs."""

import math

import pytest
from tiny import TINY

from jaxser import config as config_lib
from jaxser import experiment, methods, search, sweep
from jaxser.config import ConfigError
from jaxser.evaluation import report

METHOD_CONFIGS = sorted(
    p.stem for p in config_lib.CONFIGS_DIR.glob("*.py") if p.stem not in ("__init__", "base")
)


def _value(config, key):
    node = config
    for part in key.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("name", METHOD_CONFIGS)
def test_every_config_declares_a_space_whose_draws_pass_check(name):
    """Each bundled method's space loads, every key is one of its config's, and its
    draws are configs `experiment.check` accepts, holding the drawn values."""
    space = search.load(f"configs/{name}.py")
    assert {"train.learning_rate", "train.warmup_steps"} <= set(space)
    for k in range(4):
        setting = search.draw(space, name, k)
        config = config_lib.load(f"configs/{name}.py", search.overrides(setting))
        experiment.check(config)
        for key, value in setting.items():
            assert _value(config, key) == value, (name, k, key)


@pytest.mark.parametrize("name", ["dann", "mmd", "coral", "dsan", "emodna", "didan", "lidan"])
def test_alignment_weights_reach_zero(name):
    """A rule may decide, per task, not to adapt: each alignment weight has 0."""
    space = search.load(f"configs/{name}.py")
    weights = [k for k in space if k.startswith("terms.") and k.endswith(".weight")]
    assert weights and all(0.0 in space[k][1:] for k in weights)


def test_draws_are_seeded_the_same_everywhere_and_inside_their_bounds():
    space = {
        "train.learning_rate": ("log", 1e-4, 1e-2),
        "model.dropout": ("uniform", 0.0, 0.5),
        "train.warmup_steps": ("int", 0, 10),
        "terms.adv.weight": ("choice", 0.0, 0.5),
        "a.b,c.d": ("choice", ("x", 1), ("y", 2)),
    }
    assert search.draw(space, "dann", 0) == {}  # the config's own
    draws = [search.draw(space, "dann", k) for k in range(1, 40)]
    assert draws == [search.draw(dict(reversed(space.items())), "dann", k) for k in range(1, 40)]
    assert draws[0] != search.draw(space, "mmd", 1)  # each method its own stream
    assert draws[0] != search.draw(space, "dann", 1, seed=1)
    for d in draws:
        assert 1e-4 <= d["train.learning_rate"] <= 1e-2
        assert float(f"{d['train.learning_rate']:.3g}") == d["train.learning_rate"]
        assert 0.0 <= d["model.dropout"] <= 0.5
        assert d["train.warmup_steps"] in range(11)
        assert (d["a.b"], d["c.d"]) in (("x", 1), ("y", 2))  # a joint entry sets both
    logs = [math.log10(d["train.learning_rate"]) for d in draws]
    assert min(logs) < -3.3 and max(logs) > -2.7  # spread over the decades, not bunched
    assert {d["terms.adv.weight"] for d in draws} == {0.0, 0.5}
    assert search.overrides({"a": 1, "b": (1, 2)}) == ["a=1", "b=1,2"]


@pytest.mark.parametrize(
    "space, message",
    [
        ({"a": ("gauss", 0, 1)}, "kind one of"),
        ({"a": ("log", 0.0, 1.0)}, "log needs lo > 0"),
        ({"a": ("uniform", 2.0, 1.0)}, "lo <= hi"),
        ({"a,b": ("uniform", 0.0, 1.0)}, "must be a choice"),
        ({"a,b": ("choice", (1, 2), (3,))}, "tuple of 2 values"),
        ({}, "non-empty"),
    ],
)
def test_bad_spaces_fail_naming_the_entry(space, message):
    with pytest.raises(ConfigError, match=message):
        search.check(space)


def test_a_config_without_a_space_fails_in_one_line(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text("from configs import dann\n\n\ndef get_config():\n    return dann.get_config()\n")
    with pytest.raises(ConfigError, match="declares no search space: add a search_space"):
        search.load(str(f))


def test_search_runs_name_their_draw_and_let_set_pin_a_key():
    extra = ["train.eval_every=50", "data.source_val=0.2"]
    runs = sweep.plan(["dann", "shot"], [("synth_emodb", "synth_emovo")], [0, 1],
                      ["train.learning_rate=0.005", *TINY], search=3,
                      search_overrides=extra)  # fmt: skip
    assert len(runs) == 2 * 3 * 2
    runs = sweep.resolve(runs)
    dann = [r for r in runs if r.method == "dann"]
    assert [r.draw for r in dann] == [0, 0, 1, 1, 2, 2]
    assert dann[2].setting == dann[3].setting  # the same draw for every seed
    assert all("-draw" in r.name for r in runs)
    for r in runs:
        config = config_lib.load(r.config, r.all_overrides())
        assert config.train.learning_rate == 0.005  # --set comes after the draw
        assert config.train.eval_every == 1000  # TINY's --set, over the search's 50
        # methods that adapt without the source have no source validation split
        assert config.data.source_val == (0.0 if methods.is_source_free(r.method) else 0.2)
    assert len({r.name for r in runs}) == len(runs)


def test_the_path_ablation_steps_back_one_key_at_a_time_from_the_searchs_own_runs():
    import ablate

    variants, steps = ablate.path_variants("emodna", 5)
    labels = [label for label, _, _ in variants]
    assert labels[:2] == ["config", "draw5"]
    tasks = [("synth_emodb", "synth_emovo")]
    runs = sweep.resolve(sweep.plan(variants, tasks, [0]))
    searched = sweep.resolve(
        sweep.plan(["emodna"], tasks, [0], search=6, search_overrides=sweep.search_extra())
    )
    # the endpoints are the search's runs of draws 0 and 5: the same identity
    assert runs[0].config_hash == searched[0].config_hash
    assert runs[1].config_hash == searched[5].config_hash
    draw = dict(o.split("=", 1) for o in runs[1].overrides)
    config = config_lib.load_file("configs/emodna.py")
    for run, label in zip(runs[2:], labels[2:], strict=True):
        back = dict(o.split("=", 1) for o in run.overrides)
        changed = {k for k in draw if back[k] != draw[k]}
        # keys drawn together go back together; nothing else moves
        assert changed == set(steps[label]) and len(changed) == (2 if "+" in label else 1)
        for key in changed:
            assert config_lib.load("configs/emodna.py", run.overrides) is not None
            assert _value(config, key) == steps[label][key][0]
    assert "draw5_but_terms.adv.weight" in steps and "draw5_but_terms.cd.weight" not in steps
    only, _ = ablate.path_variants("emodna", 5, keys=["terms.adv.weight", "train.pretrain"])
    assert [label for label, _, _ in only] == [
        "config",
        "draw5",
        "draw5_but_terms.adv.weight",
        "draw5_but_train.pretrain+train.pretrain_steps",
    ]
    with pytest.raises(SystemExit, match="known: "):
        ablate.path_variants("emodna", 5, keys=["terms.nope"])


def test_the_path_ablation_on_loso_folds_is_the_loso_searchs_own_runs():
    """`tools/ablate.py --loso C --folds`: every variant on each fold, and the
    endpoints are the LOSO search's runs of draws 0 (as it ran: the file's own
    defaults, before draw 6 was frozen into msac.py) and 6 (the same identity),
    tabled as "C (loso)"."""
    import ablate

    variants, _ = ablate.path_variants("msac", 6, keys=["data.normalization"])
    runs, names = ablate.planned(variants, "", [0], ["terms.adv.weight=0"], "synth_emovo", "0-2")
    assert names == ["synth_emovo (loso)"]
    assert [(r.method, r.fold) for r in runs] == [
        (label, k) for label, _, _ in variants for k in (0, 1, 2)
    ]
    assert all(r.source == r.target == "synth_emovo" for r in runs)
    searched = sweep.resolve(
        sweep.plan(["msac"], [("synth_emovo", "synth_emovo")], [0], ["terms.adv.weight=0"],
                   folds=[0, 1, 2], search=7, search_overrides=sweep.search_extra())
    )  # fmt: skip
    by_draw_fold = {(r.draw, r.fold): r for r in searched}
    for r in runs:
        if r.method == "draw6":
            assert r.config_hash == by_draw_fold[6, r.fold].config_hash
            assert r.config_hash == by_draw_fold[0, r.fold].config_hash  # frozen: draw 0 now
        if r.method == "config":
            before = by_draw_fold[0, r.fold]  # draw 0 as the search ran it, before the freeze
            want = config_lib.load(before.config, before.all_overrides(), frozen=False)
            assert config_lib.load(r.config, r.all_overrides()).to_dict() == want.to_dict()
    cross, names = ablate.planned(variants, "synth_emodb:synth_emovo", [0], [])
    assert names == ["synth_emodb -> synth_emovo"] and {r.fold for r in cross} == {None}


def test_draws_with_the_same_config_run_once():
    """A draw that resolves to another run's config (here every draw, with --set
    pinning the whole space of source_only) runs once: the first stands for it."""
    task = [("synth_emodb", "synth_emovo")]
    pinned = ["train.learning_rate=0.001", "train.warmup_steps=0", *TINY]
    runs = sweep.resolve(sweep.plan(["source_only"], task, [0, 1], pinned, search=3))
    kept, same = sweep.run_once(runs)
    assert [(r.draw, r.seed) for r in kept] == [(0, 0), (0, 1)]
    assert [(r.draw, r.seed, k.draw, k.seed) for r, k in same] == [
        (1, 0, 0, 0), (1, 1, 0, 1), (2, 0, 0, 0), (2, 1, 0, 1)
    ]  # fmt: skip
    free = sweep.resolve(sweep.plan(["source_only"], task, [0], TINY, search=3))
    assert sweep.run_once(free) == (free, [])  # drawn settings differ: every draw runs


def test_a_frozen_draw_is_draw_0_of_a_later_search_and_runs_once(tmp_path):
    """A config whose frozen() holds draw 2 of its search (for categorical): a later
    search's draw 0 resolves to draw 2's config, which runs once; the other draws
    are the search's own, and another label space keeps the file's defaults."""
    setting = search.draw(search.load("configs/coral.py"), "coral", 2)
    path = tmp_path / "coral.py"
    path.write_text(
        "from configs import coral\n\n\ndef get_config():\n    return coral.get_config()\n\n\n"
        "def search_space():\n    return coral.search_space()\n\n\n"
        f"def frozen():\n    return {{'categorical': {setting!r}}}\n"
    )
    task = [("synth_emodb", "synth_emovo")]
    method = [("coral", str(path), [])]
    frozen = sweep.resolve(sweep.plan(method, task, [0], TINY, ["categorical"], search=4))
    plain = sweep.resolve(sweep.plan(["coral"], task, [0], TINY, ["categorical"], search=4))
    assert [r.setting for r in frozen] == [r.setting for r in plain]  # the same draws
    kept, same = sweep.run_once(frozen)
    assert [r.draw for r in kept] == [0, 1, 3] and [(r.draw, k.draw) for r, k in same] == [(2, 0)]
    assert [r.config_hash for r in frozen[1:]] == [r.config_hash for r in plain[1:]]
    assert frozen[0].config_hash == plain[2].config_hash != plain[0].config_hash
    assert sweep.setting_text(frozen[0]) == "frozen: " + ", ".join(plain[2].setting)
    assert sweep.setting_text(plain[0]) == "defaults"
    assert sweep.setting_text(frozen[1]) == ", ".join(plain[1].setting)
    ran = report.ran_setting(sweep.setting_text(frozen[0]), ["terms.coral.weight=0"])
    assert ran.startswith("frozen: ") and "terms.coral.weight=0 (drawn " in ran
    arousal = sweep.resolve(sweep.plan(method, task, [0], TINY, ["arousal"], search=4))
    plain = sweep.resolve(sweep.plan(["coral"], task, [0], TINY, ["arousal"], search=4))
    assert [r.config_hash for r in arousal] == [r.config_hash for r in plain]
