"""Corpora read from EmoBox's metadata (`emobox:<dataset>`) or a CSV manifest
(`csv:<name>`): fixtures in EmoBox's exact formats, the same files as jaxser's
own adapter reads them, bad rows, segments, folds, and runs."""

import json
from pathlib import Path

import fakes
import numpy as np
import pandas as pd
import pytest
from tiny import tiny_config

from jaxser import config as config_lib
from jaxser import experiment, prepare
from jaxser.config import ConfigError
from jaxser.data import corpora, features, store
from jaxser.data.corpora import csv_manifest, emobox, external

# EmoBox's emodb: its emotion names (its typo "boredem" included) and label map,
# whose "Neutral" differs in case from the data's "neutral"
EMODB_EMO = {"W": "anger", "L": "boredem", "E": "disgust", "A": "fear", "F": "happy",
             "T": "sad", "N": "neutral"}  # fmt: skip
EMODB_LABEL_MAP = {"anger": "Angry", "boredem": "Boredom", "disgust": "Disgust", "fear": "Fear",
                   "happy": "Happy", "Neutral": "Neutral", "sad": "Sad"}  # fmt: skip


def jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def stm_line(key: str, spk: str, emo: str, length: float = 0.4) -> str:
    tags = f"<id={key},lang=de,spk={spk},emotion={emo}>"
    return f"{key} 1 {spk.replace(' ', '_')} 0 {length} {tags} {emo}\n"


def emobox_emodb(tmp_path: Path) -> tuple[Path, Path]:
    """(root holding downloads/, metadata dir) for EmoBox's emodb, over the same
    fake files jaxser's emodb adapter reads."""
    root = tmp_path / "root"
    fakes.emodb(root / "downloads" / "emodb")
    meta = tmp_path / "data" / "emodb"
    rows, stm = [], ""
    for wav in sorted((root / "downloads" / "emodb" / "wav").glob("*.wav")):
        code = wav.stem[5]
        if code not in EMODB_EMO:
            continue  # EmoBox lists only the corpus's own files
        key = f"emodb-{wav.stem}"
        rows.append({"key": key, "dataset": "emodb", "wav": f"downloads/emodb/wav/{wav.name}",
                     "type": "raw", "sample_rate": 16000, "task": "category", "length": 0.4,
                     "emo": EMODB_EMO[code], "channel": 1})  # fmt: skip
        sex = "female" if wav.stem[:2] in ("08", "09", "13", "14", "16") else "male"
        stm += stm_line(key, f"{sex}_{wav.stem[:2]}", EMODB_EMO[code])
    jsonl(meta / "emodb.jsonl", rows)
    (meta / "data.seg.wrd.stm").write_text(stm)
    (meta / "label_map.json").write_text(json.dumps(EMODB_LABEL_MAP, indent=4))
    return root, meta.parent


def test_emobox_route_reads_what_the_adapter_reads(tmp_path):
    root, metadata = emobox_emodb(tmp_path)
    ours = corpora.get("emodb").scan(root / "downloads" / "emodb")
    theirs = emobox.parse(root, "emobox:emodb", str(metadata), "emodb", {})
    by_file = lambda s: {Path(u.path).name: u for u in s.utterances}  # noqa: E731
    a, b = by_file(ours), by_file(theirs)
    assert sorted(a) == sorted(b) and len(a) == 7
    assert {f: u.emotion for f, u in a.items()} == {f: u.emotion for f, u in b.items()}
    # the same speakers, under EmoBox's names ("male_03" for the adapter's "03")
    groups = lambda d: sorted(sorted(f for f in d if d[f].speaker == s)  # noqa: E731
                              for s in {u.speaker for u in d.values()})  # fmt: skip
    assert groups(a) == groups(b)
    assert b["03a01Wa.wav"].speaker == "male_03" and b["03a01Wa.wav"].gender == "m"
    assert b["08b02Nb.wav"].utt_id == "emodb-08b02Nb" and b["08b02Nb.wav"].gender == "f"
    assert not theirs.skipped


def test_bad_rows_are_skipped_with_their_reason(tmp_path):
    root, metadata = emobox_emodb(tmp_path)
    meta = metadata / "emodb"
    rows = [json.loads(x) for x in (meta / "emodb.jsonl").read_text().splitlines()]
    rows.append(dict(rows[0], key="emodb-gone", wav="downloads/emodb/wav/gone.wav"))
    rows.append(dict(rows[1], key="emodb-odd", emo="sarcasm"))
    rows.append(dict(rows[2]))  # its key again
    rows.append(dict(rows[3], key="emodb-nospk"))
    jsonl(meta / "emodb.jsonl", rows)
    with open(meta / "data.seg.wrd.stm", "a") as f:
        f.write(stm_line("emodb-nospk", "", "fear"))
    s = emobox.parse(root, "emobox:emodb", str(metadata), "emodb", {})
    assert len(s.utterances) == 7
    reasons = sorted(k.reason.split(" (")[0].split(" '")[0] for k in s.skipped)
    assert reasons == ["duplicate key", "empty speaker", "no such file", "unknown emotion code"]


def test_speaker_ids_with_spaces_a_renamed_label_map_and_segments(tmp_path):
    """A segmented corpus (pavoque's start_time/end_time), speakers whose ids hold
    spaces, a label map named label_dict.json, names outside the canonical set
    (`other`), and a segment outside its file (skipped when featurised)."""
    root = tmp_path / "root"
    long = fakes.wav(root / "downloads" / "seg" / "all.wav", seconds=3.0)
    meta = tmp_path / "data" / "seg"
    segments = [(0.0, 1.0, "happy"), (1.0, 2.2, "poker"), (2.2, 3.0, "angry"), (2.5, 3.6, "angry")]
    rows, stm = [], ""
    for i, (a, b, emo) in enumerate(segments):
        key = f"seg-{i}"
        rows.append({"key": key, "wav": "downloads/seg/all.wav", "emo": emo, "channel": 1,
                     "sample_rate": 16000, "start_time": a, "end_time": b})  # fmt: skip
        stm += stm_line(key, "Speaker A" if i % 2 else "Speaker B", emo)
    jsonl(meta / "seg.jsonl", rows)
    (meta / "data.seg.wrd.stm").write_text(stm)
    (meta / "label_dict.json").write_text(json.dumps({"Happy": "happy", "poker": "poker face",
                                                      "angry": "angry"}))  # fmt: skip
    s = emobox.parse(root, "emobox:seg", str(tmp_path / "data"), "seg", {})
    assert [(u.emotion, u.speaker, u.start, u.end) for u in s.utterances] == [
        ("happy", "Speaker B", 0.0, 1.0), ("other", "Speaker A", 1.0, 2.2),
        ("angry", "Speaker B", 2.2, 3.0), ("angry", "Speaker A", 2.5, 3.6),
    ]  # fmt: skip
    x = features.featurize(str(long), features.FeatureConfig(), 1.0, 2.2, 1)
    assert x.shape == (1 + 1.2 * 16000 // 160, 64)
    with pytest.raises(features.BadAudio, match=r"segment 2.5-3.6 s outside the file \(3.00 s\)"):
        features.featurize(str(long), features.FeatureConfig(), 2.5, 3.6, 1)
    # the user's map wins over the label map
    mapped = emobox.parse(root, "emobox:seg", str(tmp_path / "data"), "seg", {"poker": "neutral"})
    assert mapped.utterances[1].emotion == "neutral"


def test_a_metadata_dir_without_the_dataset_lists_those_it_has(tmp_path):
    _, metadata = emobox_emodb(tmp_path)
    with pytest.raises(ConfigError, match=r"has no dataset 'tess' .*it has: \['emodb'\]"):
        emobox.dataset_dir(metadata, "tess")


def fold_files(metadata: Path, dataset: str, keys: list[str], test_of) -> None:
    for k in (1, 2):
        test = [key for key in keys if test_of(key, k)]
        for half, ks in (("train", [x for x in keys if x not in test]), ("test", test)):
            jsonl(metadata / dataset / f"fold_{k}" / f"{dataset}_{half}_fold_{k}.jsonl",
                  [{"key": x} for x in ks])  # fmt: skip


def test_prepare_an_emobox_corpus_and_run_on_its_folds(tmp_path, capsys):
    """A corpus jaxser has no adapter for, in EmoBox's format: prepared, then a
    tiny run on EmoBox's fold 2, whose results say how many speakers are on both
    sides of the fold."""
    root = tmp_path / "root"
    meta = tmp_path / "data" / "tess"
    rows, stm, keys = [], "", []
    emos = {"angry": "angry", "happy": "happy", "neutral": "neutral", "sad": "sad", "ps": "ps"}
    for spk in ("OAF", "YAF"):
        for emo in emos:
            for n in range(3):
                name = f"{spk}_{emo}_{n}.wav"
                fakes.wav(root / "downloads" / "tess" / f"{spk}_{emo}" / name,
                          seconds=0.5, freq=150 + 60 * n + 40 * len(emo))  # fmt: skip
                key = f"tess-{spk}_{emo}_{n}"
                keys.append(key)
                rows.append({"key": key, "wav": f"downloads/tess/{spk}_{emo}/{name}",
                             "emo": emo, "channel": 1, "sample_rate": 24414})  # fmt: skip
                stm += stm_line(key, spk, emo)
    jsonl(meta / "tess.jsonl", rows)
    (meta / "data.seg.wrd.stm").write_text(stm)
    (meta / "label_map.json").write_text(json.dumps({e: e.title() for e in emos}))
    fold_files(tmp_path / "data", "tess", keys, lambda key, k: key.endswith(f"_{k - 1}"))
    data_dir = tmp_path / "store"
    prepare.main(["--corpus", "emobox:tess", "--path", str(root), "--metadata",
                  str(tmp_path / "data"), "--map", "ps=surprise", "--data_dir", str(data_dir),
                  "--workers", "1"])  # fmt: skip
    out = capsys.readouterr()
    assert "emobox:tess: 30 utterances, 2 speakers, emotions ['angry', 'happy', 'neutral', " \
           "'sad', 'surprise'], 0 rows skipped" in out.err  # fmt: skip
    manifest = json.loads(Path(out.out.strip()).read_text())
    assert manifest["num_utterances"] == 30
    assert manifest["card"]["folds"] == {
        "1": {"train": 20, "test": 10, "speakers_in_both": 2},
        "2": {"train": 20, "test": 10, "speakers_in_both": 2},
    }
    assert "emobox:tess: EmoBox fold 2: 20 train, 10 test utterances, 2 speakers in both" in out.err
    assert manifest["speakers_are_utterances"] is False
    assert store.store_dir("emobox:tess", data_dir, features.FeatureConfig()).parent.name == (
        "emobox-tess"
    )
    config = tiny_config("source_only", data_dir, "data.source=emobox:tess", "data.target=",
                         "data.protocol=emobox_fold", "data.fold=2")  # fmt: skip
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert (r["protocol"], r["fold"], r["source"]) == ("emobox_fold", 2, "emobox:tess")
    assert r["classes"] == ["angry", "happy", "neutral", "sad", "surprise"]
    assert r["emobox_fold"] == {"train_utterances": 20, "test_utterances": 10,
                                "speakers_in_both": 2, "speaker_independent": False}  # fmt: skip
    assert sum(sum(row) for row in r["confusion"]) == 10


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.source=emobox:nothere", "data.target=synth_casia"],
         r"corpus 'emobox:nothere' is not prepared in .*python -m jaxser.prepare --corpus "
         r"emobox:nothere --path <folder holding downloads/> --metadata"),
        (["data.protocol=emobox_fold", "data.target="], r"source must be an emobox:<dataset>"),
        (["data.source=box:x"], r"unknown corpus route 'box' in 'box:x'; known: \['emobox'"),
    ],
)  # fmt: skip
def test_unprepared_or_misnamed_external_corpora_fail_in_check(tmp_path, overrides, message):
    config = config_lib.load("configs/dann.py", [f"data.data_dir={tmp_path}", *overrides])
    with pytest.raises(ConfigError, match=message):
        experiment.check(config)


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def test_a_csv_manifest(tmp_path):
    root = tmp_path / "audio"
    for name in ("a/1.wav", "a/2.wav", "b/1.wav", "b/2.wav"):
        fakes.wav(root / name)
    outside = fakes.wav(tmp_path / "elsewhere" / "x.wav")
    manifest = write_csv(tmp_path / "m.csv", "file,emotion,speaker,gender,language", [
        "a/1.wav,Anger,spk1,female,de", "a/2.wav,ps,spk1,F,de", f"{outside},neutral,spk3,m,de",
        "b/1.wav,joy,spk2,male,de", "b/1.wav,sad,spk2,male,de", "b/2.wav,sarcasm,spk2,m,de",
        "b/3.wav,sad,spk2,m,de", "a/2.wav,sad,,m,de",
    ])  # fmt: skip
    s = csv_manifest.parse(root, "csv:mine", str(manifest), external.parse_map("ps=surprise"))
    got = {u.utt_id: (u.emotion, u.speaker, u.gender) for u in s.utterances}
    assert got == {"a_1": ("angry", "spk1", "f"), "a_2": ("surprise", "spk1", "f"),
                   "b_1": ("happy", "spk2", "m"),
                   got_outside(outside): ("neutral", "spk3", "m")}  # fmt: skip
    reasons = sorted(k.reason.split(" (")[0] for k in s.skipped)
    assert reasons == ["listed twice", "listed twice", "no such file", "unknown emotion 'sarcasm'"]
    with pytest.raises(ConfigError, match=r"has no column \['speaker'\]; it has \['file', 'emo"):
        csv_manifest.read_rows(write_csv(tmp_path / "bad.csv", "file,emotion", ["a/1.wav,sad"]))
    with pytest.raises(ConfigError, match=r"'happyish' is not an emotion"):
        external.parse_map("joy=happyish")


def got_outside(path: Path) -> str:
    return path.with_suffix("").as_posix().strip("/").replace("/", "_")


def test_a_csv_corpus_prepared_and_read_back(tmp_path, capsys):
    root = tmp_path / "audio"
    rows = []
    for spk in ("s1", "s2", "s3"):
        for emo in ("angry", "sad"):
            fakes.wav(root / spk / f"{emo}.wav")
            rows.append(f"{spk}/{emo}.wav,{emo},{spk}")
    manifest = write_csv(tmp_path / "m.csv", "file,emotion,speaker", rows)
    data_dir = tmp_path / "store"
    prepare.main(["--corpus", "csv:mine", "--manifest", str(manifest), "--path", str(root),
                  "--data_dir", str(data_dir), "--workers", "1"])  # fmt: skip
    data = store.load("csv:mine", data_dir)
    assert sorted(data.utt_id) == ["s1_angry", "s1_sad", "s2_angry", "s2_sad", "s3_angry", "s3_sad"]
    spec = corpora.get("csv:mine", data_dir)
    assert spec.emotions == ("angry", "sad") and np.all(data.lengths > 0)
    assert "--manifest" in store.prepare_command("csv:mine", data_dir)


def audformat_db(root: Path, pickled: bool = False) -> Path:
    """An audformat database of EmoDB's shape (audb's emodb: an `emotion` table,
    a `files` table with the speaker, a `speaker` misc table with the gender),
    written by the audformat package itself."""
    audformat = pytest.importorskip("audformat", reason='pip install -e ".[audformat]"')
    files = ["wav/03a01Wa.wav", "wav/08a02Fb.wav", "wav/09b03Tc.wav", "wav/10a01Nd.wav"]
    for f in files:
        fakes.wav(root / f, seconds=0.6)
    db = audformat.Database("emodb_like", languages="de")
    db.schemes["emotion"] = audformat.Scheme(labels=["anger", "happiness", "sadness", "neutral"])
    db.schemes["age"] = audformat.Scheme("int")
    db.schemes["gender"] = audformat.Scheme(labels=["female", "male"])
    db["speaker"] = audformat.MiscTable(pd.Index(["03", "08", "09", "10"], name="speaker"))
    db["speaker"]["gender"] = audformat.Column(scheme_id="gender")
    db["speaker"]["gender"].set(["male", "female", "female", "male"])
    db.schemes["speaker"] = audformat.Scheme("str", labels="speaker")
    db["files"] = audformat.Table(audformat.filewise_index(files[:3]))  # the 4th: no speaker
    db["files"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["files"]["speaker"].set(["03", "08", "09"])
    db["emotion"] = audformat.Table(audformat.filewise_index(files))
    db["emotion"]["emotion"] = audformat.Column(scheme_id="emotion")
    db["emotion"]["emotion"].set(["anger", "happiness", "sadness", "neutral"])
    db.save(str(root), storage_format="csv")
    if pickled:
        (root / "db.emotion.pkl").write_bytes(b"not read")
    return root


def test_an_audformat_database_reads_emotion_speaker_and_gender(tmp_path):
    root = audformat_db(tmp_path / "db")
    s = corpora.audformat_db.parse(root, "audformat:emo", {})
    got = {u.utt_id: (u.emotion, u.speaker, u.gender) for u in s.utterances}
    assert got == {"wav_03a01Wa": ("angry", "03", "m"), "wav_08a02Fb": ("happy", "08", "f"),
                   "wav_09b03Tc": ("sad", "09", "f")}  # fmt: skip
    assert [k.reason for k in s.skipped] == ["no speaker"]  # 10a01Nd
    with pytest.raises(ConfigError, match=r"db.emotion.pkl: a pickled table"):
        corpora.audformat_db.parse(audformat_db(tmp_path / "db2", pickled=True), "audformat:x", {})
    with pytest.raises(ConfigError, match=r"no audformat database \(no db.yaml\)"):
        corpora.audformat_db.parse(tmp_path, "audformat:x", {})


def test_an_audformat_database_with_segments(tmp_path):
    audformat = pytest.importorskip("audformat", reason='pip install -e ".[audformat]"')
    root = tmp_path / "db"
    fakes.wav(root / "long.wav", seconds=1.2)
    db = audformat.Database("segmented")
    db.schemes["emotion"] = audformat.Scheme(labels=["anger", "neutral"])
    db.schemes["speaker"] = audformat.Scheme("str")
    index = audformat.segmented_index(["long.wav"] * 2, [0.0, 0.5], [0.5, 1.2])
    db["segments"] = audformat.Table(index)
    db["segments"]["emotion"] = audformat.Column(scheme_id="emotion")
    db["segments"]["emotion"].set(["anger", "neutral"])
    db["segments"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["segments"]["speaker"].set(["a", "a"])
    db.save(str(root), storage_format="csv")
    s = corpora.audformat_db.parse(root, "audformat:seg", {})
    assert [(u.utt_id, u.emotion, u.start, u.end) for u in s.utterances] == [
        ("long_0-0.5", "angry", 0.0, 0.5), ("long_0.5-1.2", "neutral", 0.5, 1.2)
    ]  # fmt: skip


def test_an_audformat_database_with_splits_prepared_and_run_on_them(tmp_path, capsys):
    """A database's train and test splits (tables with a split_id) as the
    protocol db_split: trained on the train split, tested on the test split."""
    audformat = pytest.importorskip("audformat", reason='pip install -e ".[audformat]"')
    root = tmp_path / "db"
    db = audformat.Database("with_splits")
    db.schemes["emotion"] = audformat.Scheme(labels=["anger", "sadness"])
    db.schemes["speaker"] = audformat.Scheme("str")
    db.splits["train"] = audformat.Split("train")
    db.splits["test"] = audformat.Split("test")
    for split, speakers in (("train", ["a", "b"]), ("test", ["c"])):
        files = [f"{s}/{e}{n}.wav" for s in speakers for e in ("ang", "sad") for n in range(2)]
        for f in files:
            fakes.wav(root / f, seconds=0.6, freq=180 if "ang" in f else 120)
        db[f"emotion.{split}"] = audformat.Table(audformat.filewise_index(files), split_id=split)
        table = db[f"emotion.{split}"]
        table["emotion"] = audformat.Column(scheme_id="emotion")
        table["emotion"].set(["anger" if "ang" in f else "sadness" for f in files])
        table["speaker"] = audformat.Column(scheme_id="speaker")
        table["speaker"].set([f.split("/")[0] for f in files])
    db.save(str(root), storage_format="csv")
    data_dir = tmp_path / "store"
    prepare.main(["--corpus", "audformat:split", "--path", str(root), "--data_dir",
                  str(data_dir), "--workers", "1"])  # fmt: skip
    assert "audformat:split: splits: 8 train, 4 test utterances" in capsys.readouterr().err
    config = tiny_config("source_only", data_dir, "data.source=audformat:split", "data.target=",
                         "data.protocol=db_split")  # fmt: skip
    r = experiment.train(config, tmp_path / "run", progress=False)
    assert r["protocol"] == "db_split" and r["classes"] == ["angry", "sad"]
    assert r["db_split"] == {"train_utterances": 8, "test_utterances": 4,
                             "speakers_in_both": 0, "speaker_independent": True}  # fmt: skip
