"""Small fake corpus trees in the exact published layouts, with their quirks,
and finished run folders for the tables' tests.

Audio is short generated tones, enough for adapters (which never read audio)
and for prepare (which does).
"""

import json
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float = 0.4, rate: int = 16000, freq: float = 220.0, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.01, t.size)
    return (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


def wav(
    path: Path, seconds: float = 0.4, rate: int = 16000, freq: float = 220.0, channels: int = 1
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    x = tone(seconds, rate, freq, seed=hash(path.name) % 2**31)
    sf.write(path, np.stack([x] * channels, 1) if channels > 1 else x, rate, subtype="PCM_16")
    return path


def avi(path: Path, seconds: float = 0.4, rate: int = 48000, freq: float = 330.0) -> Path:
    """An AVI holding only a PCM audio stream, as eNTERFACE's audio is read from its videos."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    x = (tone(seconds, rate, freq) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(x[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def emodb(root: Path) -> Path:
    for name in [
        "03a01Wa.wav",
        "03a01Fa.wav",
        "08b02Nb.wav",
        "16a04Tc.wav",
        "10b10La.wav",
        "13a05Ea.wav",
        "09b03Aa.wav",
    ]:
        wav(root / "wav" / name)
    wav(root / "wav" / "03a01Xa.wav")  # unknown emotion code
    (root / "wav" / "notes.txt").write_text("stray")
    (root / "wav" / ".DS_Store").write_text("hidden")
    return root


def casia(root: Path) -> Path:
    for spk in ["liuchanhg", "wangzhe"]:
        for emo in ["angry", "fear", "happy", "neutral", "sad", "surprise"]:
            for n in (201, 202):
                wav(root / spk / emo / f"{n}.wav")
    wav(root / "wangzhe" / "bored" / "203.wav")  # not a CASIA emotion folder
    return root


def enterface(root: Path) -> Path:
    codes = {"anger": "an", "happiness": "ha", "sadness": "sa", "surprise": "su"}
    for folder, em in codes.items():
        avi(root / "subject 1" / folder / "sentence 1" / f"s1_{em}_1.avi")
        # subject 11 holds files named s12_* (and there is no subject 12 folder)
        avi(root / "subject 11" / folder / "sentence 2" / f"s12_{em}_2.avi")
        # subject 6 has no sentence folders
        avi(root / "subject 6" / folder / f"s6_{em}_3.avi")
        avi(root / "subject 3" / folder / "sentence 4" / f"s_3_{em}_4.avi")
    avi(root / "subject 16" / "surprise" / "sentence 3" / "s16_su_3avi.avi")
    # an extracted .wav beside its .avi: one utterance, read from the .wav
    avi(root / "subject 2" / "fear" / "sentence 5" / "s2_fe_5.avi")
    wav(root / "subject 2" / "fear" / "sentence 5" / "s2_fe_5.wav", rate=48000)
    return root


def emovo(root: Path) -> Path:
    for spk in ["f1", "m2"]:
        for code in ["dis", "gio", "neu", "pau", "rab", "sor", "tri"]:
            wav(root / spk / f"{code}-{spk}-b1.wav", rate=48000)
    wav(root / "m2" / "xyz-m2-b1.wav", rate=48000)  # unknown emotion code
    return root


IEMOCAP_LABELS = {
    "Ses01F_impro01": [
        ("Ses01F_impro01_F000", "neu"),
        ("Ses01F_impro01_M001", "exc"),
        ("Ses01F_impro01_F002", "fru"),
        ("Ses01F_impro01_M003", "xxx"),
        ("Ses01F_impro01_F004", "ang"),
    ],
    "Ses02M_script01_1": [("Ses02M_script01_1_F000", "hap"), ("Ses02M_script01_1_M001", "sad")],
}


def iemocap(root: Path) -> Path:
    for dialog, utts in IEMOCAP_LABELS.items():
        session = root / f"Session{int(dialog[3:5])}"
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        for i, (utt, label) in enumerate(utts):
            lines += [
                f"[{i}.0000 - {i + 1}.5000]\t{utt}\t{label}\t[2.5000, 3.0000, 2.0000]",
                "C-E1:\tNeutral;\t()",
                "",
            ]
            wav(session / "sentences" / "wav" / dialog / f"{utt}.wav")
        label_file = session / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
        label_file.parent.mkdir(parents=True, exist_ok=True)
        label_file.write_text("\n".join(lines))
    wav(root / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_F099.wav")
    return root


def msp_improv(root: Path) -> Path:
    rows = [
        ("S01A", "F01", "R", "FM01", "A"),
        ("S01A", "F01", "S", "FM02", "H"),
        ("S02B", "M01", "P", "MF01", "N"),
        ("S02B", "M01", "T", "MF02", "S"),
        ("S02B", "M01", "T", "MF03", "X"),
        ("S01A", "F01", "P", "FM03", "O"),
    ]
    lines = []
    for text, spk, kind, take, label in rows:
        stem = f"IMPROV-{text}-{spk}-{kind}-{take}"
        lines += [
            f"UTD-{stem}.avi; {label}; A:3.0; V:2.5; D:3.5; N:3.0;",
            "Evaluator01: Angry; ; A:3.0; V:2.5; D:3.5; N:3.0;",
            "",
        ]
        wav(root / f"session{int(text[1:3])}" / text / kind / f"MSP-{stem}.wav", rate=48000)
    (root / "Evaluation.txt").write_text("\n".join(lines))
    return root


def ravdess(root: Path) -> Path:
    for actor in ("01", "02"):
        for emo in ("01", "02", "03", "05"):
            wav(root / f"Actor_{actor}" / f"03-01-{emo}-01-01-01-{actor}.wav", rate=48000)
        wav(root / f"Actor_{actor}" / f"03-02-03-01-01-01-{actor}.wav", rate=48000)  # song
    return root


def cremad(root: Path) -> Path:
    for name in [
        "1001_DFA_ANG_XX.wav",
        "1001_IEO_HAP_HI.wav",
        "1002_TIE_SAD_XX.wav",
        "1002_ITS_NEU_XX.wav",
        "1001_DFA_FEA_XX.wav",
        "1002_IEO_DIS_LO.wav",
    ]:
        wav(root / "AudioWAV" / name)
    empty = root / "AudioWAV" / "1076_MTI_SAD_XX.wav"  # the published corpus's empty file
    empty.write_bytes(b"")
    (root / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
        "1002,21,Female,Caucasian,Not Hispanic\n1076,25,Male,Caucasian,Not Hispanic\n"
    )
    return root


def savee(root: Path, flat: bool = False) -> Path:
    for spk in ("DC", "KL"):
        for code in ("a01", "d02", "f03", "h04", "n05", "sa06", "su07"):
            if flat:
                wav(root / f"{spk}_{code}.wav", rate=44100)
            else:
                wav(root / "AudioData" / spk / f"{code}.wav", rate=44100)
    return root


def finished_run(
    d: Path, method: str, task: str, seed: int, uar: float, balance: float, sweep: dict
) -> Path:
    """A finished run folder as jaxser.train and the sweep write it: results.json
    (WAR and macro-F1 just below `uar`) and sweep.json (`sweep`)."""
    source, target = task.split(" -> ")
    d.mkdir(parents=True)
    results = {
        "uar": uar, "war": uar - 0.01, "macro_f1": uar - 0.02, "pred_balance": balance,
        "method": method, "source": source, "target": target, "label_space": "categorical",
        "seed": seed, "steps": 300, "protocol": "transductive", "selection": "last",
    }  # fmt: skip
    (d / "results.json").write_text(json.dumps(results))
    (d / "sweep.json").write_text(json.dumps(sweep))
    return d
