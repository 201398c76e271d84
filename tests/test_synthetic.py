import hashlib
from collections import Counter

import pytest

from jaxser.config import ConfigError
from jaxser.data import corpora
from jaxser.data.corpora import synthetic


def digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.wav")):
        h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_any_workers(tmp_path):
    a = synthetic.render("synth_casia", tmp_path / "a", seed=3, max_texts=1)
    synthetic.render("synth_casia", tmp_path / "b", seed=3, max_texts=1, workers=2)
    synthetic.render("synth_casia", tmp_path / "c", seed=4, max_texts=1)
    assert a["files"] == 4 * 6 * 1
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_full_recipes_match_corpora_sizes():
    sizes = {n: len(synthetic.plan(r, seed=0)) for n, r in synthetic.RECIPES.items()}
    assert sizes == {
        "synth_emodb": 535,
        "synth_casia": 1200,
        "synth_enterface": 1290,
        "synth_emovo": 588,
    }
    spk = {
        n: len({j.path.split("/")[0] for j in synthetic.plan(r, 0)})
        for n, r in synthetic.RECIPES.items()
        if n != "synth_emodb"
    }
    assert spk == {"synth_casia": 4, "synth_enterface": 43, "synth_emovo": 6}


def test_render_reads_back_through_the_mirrored_adapter(tmp_path):
    for name in synthetic.RECIPES:
        stamp = synthetic.render(name, tmp_path / name, seed=0, max_texts=1)
        scan = corpora.get(name).scan(tmp_path / name)
        assert not scan.skipped, scan.skipped[:3]
        assert len(scan.utterances) == stamp["files"]
        assert {u.corpus for u in scan.utterances} == {name}
        assert set(Counter(u.emotion for u in scan.utterances)) == set(
            synthetic.RECIPES[name].emotions
        )
    speakers = {
        u.speaker
        for u in corpora.get("synth_enterface").scan(tmp_path / "synth_enterface").utterances
    }
    assert "s11" in speakers and "s12" not in speakers and len(speakers) == 43


def test_interrupted_render_is_redone(tmp_path):
    root = tmp_path / "r"
    synthetic.render("synth_emovo", root, seed=0, max_texts=1)
    (root / ".rendered.json").unlink()  # as if killed before the stamp
    (root / "f1" / "stray.wav").write_bytes(b"x")
    synthetic.render("synth_emovo", root, seed=0, max_texts=1)
    assert not (root / "f1" / "stray.wav").exists()
    assert synthetic.is_rendered(root, "synth_emovo", 0, 1)


def test_domain_gap_is_real(small_data_dir):
    import domain_gap

    r = domain_gap.gap("synth_emodb", "synth_casia", small_data_dir)
    assert r["mean_within"] - r["mean_cross"] >= 0.2, r
    assert r["mean_within"] > 0.6, r
    assert r["classes"] == ["angry", "fear", "happy", "neutral", "sad"]  # the shared ones
    per = r["per_emotion"]["synth_emodb->synth_casia"]
    assert sorted(per) == r["classes"] and all(v["class"] == e for e, v in per.items())


def test_domain_gap_in_a_binary_space_keeps_every_emotion_in_its_half(small_data_dir):
    import domain_gap

    r = domain_gap.gap("synth_emodb", "synth_casia", small_data_dir, label_space="valence")
    assert r["classes"] == ["negative", "positive"]
    per = r["per_emotion"]["synth_emodb->synth_casia"]  # casia's emotions, surprise too
    assert {e: v["class"] for e, v in per.items()} == {
        "angry": "negative", "fear": "negative", "sad": "negative",
        "happy": "positive", "neutral": "positive", "surprise": "positive",
    }  # fmt: skip
    back = r["per_emotion"]["synth_casia->synth_emodb"]  # emodb's boredom and disgust too
    assert back["boredom"]["class"] == back["disgust"]["class"] == "negative"
    for v in (*per.values(), *back.values()):
        assert v["n"] > 0 and 0 <= v["cross"] <= 1 and 0 <= v["normalised"] <= 1
    with pytest.raises(ConfigError, match="known"):
        domain_gap.gap("synth_emodb", "synth_casia", small_data_dir, label_space="dominance")
