"""Every adapter on a fake tree in its published layout, quirks included."""

from collections import Counter

import fakes
import pytest

from jaxser.config import ConfigError
from jaxser.data import corpora


def scan(name, builder, tmp_path, **kw):
    return corpora.get(name).scan(builder(tmp_path / name, **kw))


def by_id(s):
    return {u.utt_id: u for u in s.utterances}


def reasons(s):
    return {p.rsplit("/", 1)[-1]: r for p, r in ((k.path, k.reason) for k in s.skipped)}


def test_emodb(tmp_path):
    s = scan("emodb", fakes.emodb, tmp_path)
    u = by_id(s)
    assert len(u) == 7
    assert (
        u["03a01Wa"].emotion,
        u["03a01Wa"].speaker,
        u["03a01Wa"].gender,
        u["03a01Wa"].text_id,
    ) == ("angry", "03", "m", "a01")
    assert (u["08b02Nb"].emotion, u["08b02Nb"].gender) == ("neutral", "f")
    assert {x.emotion for x in s.utterances} == set(corpora.get("emodb").emotions)
    r = reasons(s)
    assert "unknown emotion code 'X'" in r["03a01Xa.wav"]
    assert "notes.txt" in r and ".DS_Store" not in r


def test_casia(tmp_path):
    s = scan("casia", fakes.casia, tmp_path)
    assert len(s.utterances) == 2 * 6 * 2
    u = by_id(s)["wangzhe_surprise_202"]
    assert (u.emotion, u.speaker, u.gender, u.text_id) == ("surprise", "wangzhe", "m", "202")
    assert by_id(s)["liuchanhg_angry_201"].gender == "f"
    assert "unknown emotion folder 'bored'" in reasons(s)["203.wav"]


def test_enterface_quirks(tmp_path):
    s = scan("enterface", fakes.enterface, tmp_path)
    speakers = Counter(u.speaker for u in s.utterances)
    # subject 11's s12_* files belong to speaker s11; there is no s12
    assert speakers == {"s1": 4, "s11": 4, "s6": 4, "s3": 4, "s16": 1, "s2": 1}
    six = [u for u in s.utterances if u.speaker == "s6"]
    assert {u.text_id for u in six} == {"3"} and all(u.path.endswith(".avi") for u in six)
    assert {u.emotion for u in six} == {"angry", "happy", "sad", "surprise"}
    (odd,) = [u for u in s.utterances if u.speaker == "s16"]
    assert (odd.emotion, odd.text_id) == ("surprise", "3")
    (fear,) = [u for u in s.utterances if u.speaker == "s2"]
    assert fear.path.endswith("s2_fe_5.wav")  # the extracted wav wins over its avi
    assert not s.skipped


def test_enterface_subject_6_files_without_a_sentence_number(tmp_path):
    """The real `subject 6/<emotion>/s6_<em>.avi`: six files with no sentence
    number (EmoBox's metadata lists them): read, their sentence unknown."""
    root = fakes.enterface(tmp_path / "enterface")
    fakes.avi(root / "subject 6" / "anger" / "s6_an.avi")
    fakes.avi(root / "subject 6" / "disgust" / "s6_di.avi")
    s = corpora.get("enterface").scan(root)
    by = by_id(s)
    assert (by["s6_angry__s6_an"].text_id, by["s6_angry__s6_an"].emotion) == ("", "angry")
    assert by["s6_disgust__s6_di"].speaker == "s6"
    assert len(s.utterances) == 18 + 2 and not s.skipped


@pytest.mark.parametrize(
    "top", ["", "Audio_Speech_Actors_01-24", "audio/Audio_Speech_Actors_01-24"]
)
def test_ravdess_from_the_folder_holding_the_actors_or_the_downloads_top(tmp_path, top):
    fakes.ravdess(tmp_path / "ravdess" / top)
    s = corpora.get("ravdess").scan(tmp_path / "ravdess")
    assert len(s.utterances) == 8 and {u.speaker for u in s.utterances} == {"01", "02"}
    assert len(s.skipped) == 2  # the songs


def test_emovo(tmp_path):
    s = scan("emovo", fakes.emovo, tmp_path)
    assert len(s.utterances) == 14
    u = by_id(s)["gio-f1-b1"]
    assert (u.emotion, u.speaker, u.gender, u.text_id) == ("happy", "f1", "f", "b1")
    assert by_id(s)["pau-m2-b1"].emotion == "fear"
    assert "unknown emotion code 'xyz'" in reasons(s)["xyz-m2-b1.wav"]


def test_iemocap_labels(tmp_path):
    s = scan("iemocap", fakes.iemocap, tmp_path)
    u = by_id(s)
    assert u["Ses01F_impro01_M001"].emotion == "happy"  # exc -> happy
    assert u["Ses02M_script01_1_F000"].emotion == "happy"
    assert u["Ses01F_impro01_F002"].emotion == "other"  # fru: kept, never a task class
    # speaker = session + the last F/M of the name
    assert (u["Ses01F_impro01_M001"].speaker, u["Ses01F_impro01_M001"].gender) == ("Ses01M", "m")
    assert u["Ses02M_script01_1_F000"].speaker == "Ses02F"
    assert u["Ses01F_impro01_F000"].text_id == "Ses01F_impro01"
    r = reasons(s)
    assert "xxx" in r["Ses01F_impro01_M003.wav"]
    assert "no label" in r["Ses01F_impro01_F099.wav"]
    assert "other" not in corpora.get("iemocap").emotions


def test_msp_improv_ids(tmp_path):
    s = scan("msp_improv", fakes.msp_improv, tmp_path)
    u = by_id(s)
    assert set(u) == {
        "IMPROV-S01A-F01-R-FM01",
        "IMPROV-S01A-F01-S-FM02",
        "IMPROV-S02B-M01-P-MF01",
        "IMPROV-S02B-M01-T-MF02",
        "IMPROV-S01A-F01-P-FM03",
    }
    x = u["IMPROV-S02B-M01-T-MF02"]
    assert (x.emotion, x.speaker, x.gender, x.text_id) == ("sad", "M01", "m", "S02B")
    assert u["IMPROV-S01A-F01-P-FM03"].emotion == "other"
    assert "(X)" in reasons(s)["MSP-IMPROV-S02B-M01-T-MF03.wav"]


def test_ravdess(tmp_path):
    s = scan("ravdess", fakes.ravdess, tmp_path)
    assert len(s.utterances) == 8
    u = by_id(s)["03-01-02-01-01-01-01"]
    assert (u.emotion, u.speaker, u.gender) == ("calm", "01", "m")
    assert by_id(s)["03-01-05-01-01-01-02"].gender == "f"
    assert all("song" in k.reason for k in s.skipped) and len(s.skipped) == 2


def test_cremad_empty_file(tmp_path):
    s = scan("cremad", fakes.cremad, tmp_path)
    assert len(s.utterances) == 6
    assert by_id(s)["1002_TIE_SAD_XX"].gender == "f"
    assert by_id(s)["1001_IEO_HAP_HI"].gender == "m"
    assert reasons(s) == {"1076_MTI_SAD_XX.wav": "empty file (0 bytes)"}


@pytest.mark.parametrize("flat", [False, True])
def test_savee_both_layouts(tmp_path, flat):
    s = scan("savee", fakes.savee, tmp_path, flat=flat)
    assert len(s.utterances) == 14
    u = by_id(s)["KL_sa06"]
    assert (u.emotion, u.speaker, u.gender) == ("sad", "KL", "m")
    assert by_id(s)["DC_su07"].emotion == "surprise"


@pytest.mark.parametrize("name", sorted(corpora.REAL))
def test_wrong_folder_names_the_layout(tmp_path, name):
    (tmp_path / "random" / "stuff").mkdir(parents=True)
    (tmp_path / "random" / "stuff" / "x.txt").write_text("x")
    with pytest.raises(corpora.LayoutError, match="Expected layout"):
        corpora.get(name).scan(tmp_path / "random")


def test_unknown_corpus_lists_known():
    with pytest.raises(ConfigError, match="known corpora: .*emodb"):
        corpora.get("emodbb")
