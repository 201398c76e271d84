"""Several corpora as one source (`data.source=a+b`), and the leave-one-corpus-out
task sets of the sweep."""

import numpy as np
import pytest
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, sweep
from jaxser.config import ConfigError
from jaxser.data import features, pipeline, store
from jaxser.data.tasks import Task
from jaxser.evaluation import report

UNION = "synth_emodb+synth_casia"


@pytest.fixture(scope="module")
def three_corpora(small_data_dir):
    """The small data dir with a small synth_emovo too (the union's target)."""
    store.prepare("synth_emovo", data_dir=small_data_dir, workers=1, synth_max_texts=2)
    return small_data_dir


def test_the_union_keeps_each_corpus_and_pools_the_statistics(three_corpora):
    d = pipeline.load_task(Task(UNION, "synth_emovo"), three_corpora, normalization="corpus")
    a, b = (store.load(n, three_corpora) for n in ("synth_emodb", "synth_casia"))
    assert d.source.corpus == UNION
    in_task = [f"{x.name}/{u}" for x in (a, b)
               for u, e in zip(x.utt_id, x.emotion, strict=True) if e in d.classes]  # fmt: skip
    assert len(d.source.lengths) == len(in_task) and set(d.source.utt_id) == set(in_task)
    assert {s.split("/")[0] for s in d.source.speakers} == {"synth_emodb", "synth_casia"}
    raw = np.concatenate([a.frames[:-1], b.frames[:-1]]).astype(np.float64)
    pooled = d.stats[UNION]
    np.testing.assert_allclose(pooled["mean"], raw.mean(0), atol=2e-5)
    np.testing.assert_allclose(pooled["std"], raw.std(0), rtol=1e-4, atol=2e-5)
    assert d.stats["synth_emodb"] == a.manifest["stats"]  # each its own, for predict
    # each corpus normalised by its own statistics
    first = a.utterance(0)
    i = list(d.source.utt_id).index(f"synth_emodb/{a.utt_id[0]}")
    got = d.source.frames[d.source.offsets[i] : d.source.offsets[i] + d.source.lengths[i]]
    mean, std = (np.asarray(a.manifest["stats"][k], np.float32) for k in ("mean", "std"))
    np.testing.assert_allclose(got, (first - mean) / std, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["source_only", "dann"])
def test_a_multi_source_run(three_corpora, tmp_path, name):
    config = tiny_config(name, three_corpora, f"data.source={UNION}", "data.target=synth_emovo")
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert (r["source"], r["target"]) == (UNION, "synth_emovo")
    assert r["steps"] == 4 and np.isfinite(r["uar"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.source=synth_emodb+synth_casia", "data.target=synth_casia"],
         r"data.target=synth_casia is one of the source corpora"),
        (["data.source=synth_emodb+synth_emodb", "data.target=synth_casia"], r"a corpus twice"),
        (["data.source=synth_emodb+synth_casia", "data.target=", "data.protocol=loso"],
         r"data.protocol=loso folds one corpus"),
        (["data.source=synth_emodb+nope", "data.target=synth_casia"], r"unknown corpus 'nope'"),
    ],
)  # fmt: skip
def test_bad_unions_fail_in_check(overrides, message):
    config = config_lib.load("configs/dann.py", overrides)
    with pytest.raises(ConfigError, match=message):
        experiment.check(config)


def test_leave_one_corpus_out_expands_to_one_task_per_corpus():
    names = "synth_emodb,synth_casia,synth_enterface,synth_emovo"
    tasks = sweep.tasks_of([f"loco:{names}"])
    assert tasks == [
        ("synth_casia+synth_enterface+synth_emovo", "synth_emodb"),
        ("synth_emodb+synth_enterface+synth_emovo", "synth_casia"),
        ("synth_emodb+synth_casia+synth_emovo", "synth_enterface"),
        ("synth_emodb+synth_casia+synth_enterface", "synth_emovo"),
    ]
    assert report.task_name(*tasks[0], False) == (
        "synth_casia + synth_enterface + synth_emovo -> synth_emodb"
    )
    with pytest.raises(ConfigError, match="3 or more different corpora"):
        sweep.tasks_of(["loco:synth_emodb,synth_casia"])
    assert sweep.corpus_pair("emobox:tess:synth_emodb") == ("emobox:tess", "synth_emodb")
    assert sweep.corpus_pair("a+b:c") == ("a+b", "c")


def test_features_of_the_union_read_each_corpus_store(three_corpora):
    """A feature kind is per store: the union reads each corpus's own store."""
    f = features.FeatureConfig()
    parts = [store.load(n, three_corpora, f) for n in ("synth_emodb", "synth_casia")]
    merged, frames = pipeline.merge(parts, [p.frames for p in parts])
    assert len(merged) == sum(len(p) for p in parts) and frames.shape == merged.frames.shape
    assert merged.manifest["corpora"] == ["synth_emodb", "synth_casia"]
    assert merged.manifest["num_frames"] == sum(p.manifest["num_frames"] for p in parts)


def test_emobox_track2_is_every_pair_of_its_four_corpora():
    tasks = sweep.tasks_of(["emobox_track2"])
    assert len(tasks) == 12 and ("emobox:iemocap", "emobox:meld") in tasks
    assert {c for pair in tasks for c in pair} == {
        "emobox:iemocap", "emobox:meld", "emobox:ravdess", "emobox:savee"
    }  # fmt: skip
