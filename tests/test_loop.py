"""The training loop's cost: no read-back between actions, one compilation of the
step per run, the compilation cache, the runtime record, bfloat16 on CPU."""

import json

import jax
import numpy as np
import pytest
from tiny import tiny_config

from jaxser import compilation, experiment, host_memory, stages
from jaxser.data import batch as batch_lib
from jaxser.evaluation import report
from jaxser.training import loop, runtime, writers

CLASSES = ("angry", "fear", "happy", "neutral", "sad")


def _probe_run(tmp_path, wrap=None):
    """A tiny run of 10 steps (log every 5) fed from memory, with a step heavy
    enough (64+64 utterances of 3 s) that the host can dispatch a step before the
    last one has computed. At every batch the loop asks for, records whether
    the steps dispatched so far have finished (`is_ready` reads nothing back)."""
    own = ("train.batch_size=64", "data.crop_seconds=3.0", "train.steps=11",
           "train.log_every=5", "train.checkpoint_every=1000")  # fmt: skip
    exp = experiment.build(tiny_config("source_only", tmp_path, *own), CLASSES, 100)
    dispatched, seen = [], []
    jitted = exp.step

    def step(state, batch):
        state, logs = jitted(state, batch)
        dispatched.append(logs["loss"])
        return state, logs

    exp.step = wrap(step) if wrap else step
    batch = batch_lib.random(64, exp.crop_frames, 64, 5)
    memory = batch_lib.in_memory([batch])

    def feed(exp, start):
        for i, b in enumerate(memory(exp, start), start):
            seen.append((i, [x.is_ready() for x in dispatched]))
            yield b

    steps, _ = loop.fit(exp, tmp_path / "run", max_steps=10, progress=False, feed=feed,
                        transfer_guard="disallow_explicit")  # fmt: skip
    assert steps == 10
    return seen


def test_steps_between_actions_read_nothing_back(tmp_path):
    """The host asks for batch k+1 while step k-1 is still computing: the loop
    never waits for a step between its actions (on a GPU or TPU the transfer
    guard also makes any read-back there an error; on a CPU, arrays are read
    without a copy and the guard does not fire, so this test watches the
    steps instead). A loop that reads each step's logs back, as it once did,
    is caught."""

    def syncing(step):  # the old loop: jax.device_get(logs) after every step
        def run(state, batch):
            state, logs = step(state, batch)
            return state, jax.device_get(logs)

        return run

    seen = _probe_run(tmp_path / "quiet")
    if jax.default_backend() != "cpu":
        # an H200 finishes this step before the host asks for the next batch
        # (device check): there the guard is the test, and it fires on a read-back
        with pytest.raises(Exception, match="Disallowed device-to-host transfer"):
            _probe_run(tmp_path / "syncing", syncing)
        return
    behind = [i for i, ready in seen if not all(ready)]
    assert behind, seen  # some batch was asked for before the step before it had finished
    seen = _probe_run(tmp_path / "syncing", syncing)
    assert all(all(ready) for _, ready in seen), seen


def test_step_compiles_once_through_evaluation_refresh_and_resume(small_data_dir, tmp_path):
    """SHOT refreshes its method state from the host (every 2 steps here), the
    run evaluates mid-run, stops at step 3 and resumes from its checkpoint of
    step 2: the run's own jitted step has compiled once."""
    own = ("train.steps=6", "train.eval_every=2", "source_free.refresh_every=2")
    exp = experiment.setup(tiny_config("shot", small_data_dir, *own))
    assert exp.method.refresh_every == 2
    steps, results = loop.fit(exp, tmp_path, max_steps=3, progress=False)
    assert steps == 3 and results is None
    steps, results = loop.fit(exp, tmp_path, progress=False)  # resumes from step 2
    assert steps == 6 and results is not None
    assert [r["step"] for r in writers.read(tmp_path, "eval")] == [0, 2, 4, 6]
    assert exp.step._cache_size() == 1
    assert exp.forward._cache_size() == 1  # every evaluation and refresh: one batch shape


def test_results_and_log_record_the_runtime_and_a_resume_elsewhere_is_refused(
    small_data_dir, tmp_path
):
    config = tiny_config("source_only", small_data_dir)
    experiment.train(config, tmp_path, max_steps=2, progress=False)
    (start,) = writers.read(tmp_path, "runtime")
    assert start["platform"] == "cpu" and start["compute_dtype"] == "float32"
    assert start["devices"] == jax.device_count() and start["jax"] == jax.__version__
    # as if its first steps had run on a GPU in bfloat16
    with (tmp_path / "metrics.jsonl").open("a") as f:
        f.write(json.dumps(start | {"platform": "gpu", "compute_dtype": "bfloat16"}) + "\n")
    with pytest.raises(runtime.DeviceChanged) as e:
        experiment.train(config, tmp_path, progress=False)
    assert "gpu, compute_dtype bfloat16" in str(e.value)
    assert "cpu, compute_dtype float32" in str(e.value)
    r = experiment.train(config, tmp_path, progress=False, allow_device_change=True)
    assert r["runtime"] == {k: v for k, v in start.items() if k not in ("step", "kind")}
    assert json.loads((tmp_path / "results.json").read_text())["runtime"] == r["runtime"]
    # the machine, read back by the tables (jaxser/evaluation/report.py)
    assert start["machine"] == runtime.machine() and start["cores"] >= 1
    assert start["host_malloc"] == host_memory.setting()
    assert report.read_run(tmp_path)[0].machine == runtime.machine()


def test_compilation_cache_folder_config_env_default_and_off(tmp_path, monkeypatch):
    monkeypatch.delenv(compilation.ENV, raising=False)
    config = tiny_config("source_only", tmp_path / "data")
    assert compilation.cache_dir(config) == tmp_path / "data" / "xla_cache"
    monkeypatch.setenv(compilation.ENV, str(tmp_path / "env"))
    assert compilation.cache_dir(config) == tmp_path / "env"
    config.train.compilation_cache = str(tmp_path / "mine")
    assert compilation.cache_dir(config) == tmp_path / "mine"
    config.train.compilation_cache = "off"
    assert compilation.cache_dir(config) is None
    monkeypatch.setenv(compilation.ENV, "off")
    config.train.compilation_cache = ""
    assert compilation.cache_dir(config) is None


def test_a_cache_folder_that_cannot_be_made_is_warned_about_and_not_used(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    try:
        compilation.use_cache(tmp_path / "file" / "xla_cache")
        assert jax.config.jax_compilation_cache_dir is None
    finally:
        compilation.use_cache(None)
    err = capsys.readouterr().err
    assert err.startswith("warning: no compilation cache (") and err.count("\n") == 1


def test_a_second_build_reads_its_compilations_from_the_cache(tmp_path):
    """Built twice in one process (new functions each time, as two runs), the
    second build and step compile nothing: every executable is a cache hit."""
    config = tiny_config("mmd", tmp_path, f"train.compilation_cache={tmp_path / 'xla'}")
    events = []
    jax.monitoring.register_event_listener(lambda name, **_: events.append(name))
    batch = batch_lib.random(8, 100, 64, 5)
    try:
        for _ in range(2):
            events.clear()
            exp = experiment.build(config, CLASSES, 100)
            jax.block_until_ready(exp.step(exp.state, batch))
    finally:
        jax.monitoring.clear_event_listeners()
        compilation.use_cache(None)
    assert any((tmp_path / "xla").iterdir())
    hits = events.count("/jax/compilation_cache/cache_hits")
    misses = events.count("/jax/compilation_cache/cache_misses")
    assert hits >= 2 and misses == 0, (hits, misses)  # the init and the step at least


def test_the_identity_of_a_run_leaves_out_where_it_caches(tmp_path):
    from jaxser import config as config_lib
    from jaxser import run_folder

    a = tiny_config("source_only", tmp_path)
    b = tiny_config("source_only", tmp_path, "train.compilation_cache=off")
    assert run_folder.config_hash(a) == run_folder.config_hash(b)
    assert config_lib.diff(a, b) == []
    assert stages.pretrain_workdir(tiny_config("ecan", tmp_path)) == (
        stages.pretrain_workdir(tiny_config("ecan", tmp_path, "train.compilation_cache=x"))
    )


def test_bfloat16_compute_learns_an_easy_task_on_cpu(tmp_path):
    """The GPU path's dtype, on CPU: a tiny source_only run fed from memory with
    `model.compute_dtype=bfloat16` keeps finite, falling losses and ends well
    above chance on held-out batches of the same easy task."""
    own = ("model.compute_dtype=bfloat16", "train.steps=41", "train.log_every=1",
           "train.learning_rate=0.01", "train.checkpoint_every=1000",
           "model.dropout=0.0")  # fmt: skip
    config = tiny_config("source_only", tmp_path, *own)
    exp = experiment.build(config, CLASSES, 100)
    feed = batch_lib.in_memory(
        [batch_lib.random(8, 100, 64, 5, seed=i, signal=1.0) for i in range(8)]
    )
    steps, results = loop.fit(exp, tmp_path / "run", max_steps=40, progress=False, feed=feed)
    assert steps == 40 and results is None
    (start,) = writers.read(tmp_path / "run", "runtime")
    assert start["compute_dtype"] == "bfloat16"
    losses = [r["loss/cls"] for r in writers.read(tmp_path / "run", "train")]
    assert len(losses) == 40 and np.all(np.isfinite(losses))
    assert abs(losses[0] - np.log(5)) < 0.3, losses  # near-uniform at the start
    assert np.mean(losses[-5:]) < losses[0] - 0.8, losses
    held_out = batch_lib.random(40, 100, 64, 5, seed=99, signal=1.0)["source"]
    variables = {"params": exp.state.params, "batch_stats": exp.state.batch_stats}
    logits, _ = exp.forward(variables, held_out["x"], held_out["mask"])
    accuracy = np.mean(np.argmax(logits, -1) == held_out["label"])
    assert accuracy > 0.6, (accuracy, losses)  # chance: 0.2


@pytest.mark.parametrize("name", ["dann", "emodna"])
def test_the_init_compiled_at_o2_is_bit_identical_to_the_default_compile(tmp_path, name):
    """`state.init_state` compiles at XLA:CPU's -O2 for speed; the values are
    those of the default (-O3) compile, bit for bit."""
    from jaxser import methods
    from jaxser.training import optim, state

    config = tiny_config(name, tmp_path)
    method = methods.build(config, CLASSES, 100)
    tx = optim.make_optimizer(config.train, tuple(method.lr_multipliers))
    batch = experiment.shape_batch(config, len(CLASSES))
    fast = state.init_state(method, tx, batch, 0)
    reference = state.init_state(method, tx, batch, 0, fast_compile=False)
    assert state.FAST_INIT_OPTIONS["cpu"] == {"xla_backend_optimization_level": 2}
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(reference), strict=True):
        np.testing.assert_array_equal(a, b)


def test_device_check_tool_runs_on_cpu(tmp_path):
    """tools/device_check.py's parts, as they run on an accelerator box: the
    golden float32 steps match here, and the loop fed from memory reports."""
    import device_check

    golden = device_check.golden(tmp_path)
    assert golden["ok"] and golden["max_rel_diff"] < 1e-4
    r = device_check.loop_rate("source_only", 3, 100.0, tmp_path)
    assert r["steps"] == 3 and r["dtype"] == "float32"
    assert 0 < r["fixed_cost_s"] < r["wall_s"]
    assert [x["step"] for x in writers.read(tmp_path / "source_only", "train")] == [3]
    host = device_check.host_per_step("source_only", steps=2)
    assert host["steps"] == 2 and host["batch_put_ms"] > 0 and host["dispatch_ms"] > 0


def test_the_machine_is_the_cpus_model_count_and_widest_vector_extension(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    intel = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU\nflags\t: sse4_2 avx2 avx512f\n"
    amd = "model name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx avx2\n"
    zen5 = "cpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nflags\t\t: avx2 avx512f\n"
    arm = (
        "processor\t: 0\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n"
    )
    assert runtime.cpu(intel) == "Intel(R) Xeon(R) CPU, 8 CPUs, AVX-512"
    assert runtime.cpu(amd) == "AMD EPYC, 8 CPUs, AVX2"
    assert runtime.cpu(zen5) == "AMD EPYC, 8 CPUs, AVX-512, family 26 model 2"
    assert runtime.cpu(arm).endswith(", 8 CPUs, NEON, implementer 0x41 part 0xd0c")
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert runtime.cpu("model name : X\n") == "X, 1 CPU"
