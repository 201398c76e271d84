"""Self-supervised (SSL) speech embeddings from a local Hugging Face checkpoint.

`data.features = "ssl:<checkpoint dir>[:<layers>]"`: the hidden states of a
wav2vec2, HuBERT, WavLM, data2vec-audio or Whisper encoder checkpoint saved in
a local folder (`save_pretrained`: config.json, the weights, and the feature
extractor's preprocessor_config.json). Nothing is downloaded: the folder is
read with `local_files_only=True`. Extraction runs the model's PyTorch
implementation in `transformers` (the `ssl` extra); training never needs torch.

Layers: "last" (the default: the final hidden state), an index into the
model's hidden states (0: the convolutional front end's output after
projection, L: the last layer), or "all" (every hidden state, L + 1 of them,
stored side by side in each frame's row: [h_0 | h_1 | ... | h_L], which the
frame backbone splits back and combines with learnt weights).

A checkpoint is identified by the hash of its config, feature extractor and
weight files (`identity`), so a store made from other weights under the same
path is never reused.
"""

import functools
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from jaxser.config import ConfigError

# config.json's model_type -> the family it belongs to
SUPPORTED = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "whisper")
LAYER_CHOICES = ("last", "all", "<index>")
# the files that make a checkpoint's numbers (weights in any of HF's formats)
IDENTITY_FILES = ("config.json", "preprocessor_config.json")
WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.msgpack", "*.h5")
WHISPER_SECONDS = 30  # a Whisper encoder reads 30 s windows


def parse(kind: str) -> tuple[str, str] | None:
    """(checkpoint dir, layers) of "ssl:<dir>[:<layers>]", None for another kind."""
    if not kind.startswith("ssl:"):
        return None
    rest = kind.removeprefix("ssl:")
    head, _, tail = rest.rpartition(":")
    if head and (tail in ("last", "all") or tail.isdigit()):
        return head, tail
    if not rest:
        raise ConfigError("feature kind 'ssl:' names no checkpoint folder: ssl:<dir>[:<layers>]")
    return rest, "last"


def read_config(checkpoint: str) -> dict:
    """The checkpoint's config.json; ConfigError when the folder is missing, holds
    no config or a model type jaxser cannot extract from."""
    folder = Path(checkpoint).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"SSL checkpoint folder {checkpoint} not found (moved or deleted?)")
    path = folder / "config.json"
    if not path.is_file():
        raise ConfigError(
            f"{checkpoint} holds no config.json: not a Hugging Face checkpoint folder "
            "(save one with model.save_pretrained(DIR))"
        )
    config = json.loads(path.read_text())
    if config.get("model_type") not in SUPPORTED:
        raise ConfigError(
            f"{checkpoint}: model_type {config.get('model_type')!r} is not a supported speech "
            f"encoder; supported: {list(SUPPORTED)}"
        )
    if not (folder / "preprocessor_config.json").is_file():
        raise ConfigError(
            f"{checkpoint} holds no preprocessor_config.json (the feature extractor's settings): "
            "save it beside the model with feature_extractor.save_pretrained(DIR)"
        )
    return config


def hidden_states(config: dict) -> tuple[int, int]:
    """(L + 1, D): the number of hidden states the model outputs, and their width."""
    if config["model_type"] == "whisper":
        return config["encoder_layers"] + 1, config["d_model"]
    return config["num_hidden_layers"] + 1, config["hidden_size"]


def layer_count(checkpoint: str, layers: str) -> int:
    """How many hidden states a frame holds: L + 1 for "all", else 1 (an index is
    checked against the model's depth)."""
    count, _ = hidden_states(read_config(checkpoint))
    if layers == "all":
        return count
    if layers.isdigit() and int(layers) >= count:
        raise ConfigError(
            f"layer {layers} of {checkpoint}: the model has hidden states 0-{count - 1}"
        )
    return 1


def stride(checkpoint: str) -> int:
    """Audio samples per output frame (320 at 16 kHz: 50 frames a second)."""
    config = read_config(checkpoint)
    if config["model_type"] == "whisper":
        return 2 * _preprocessor(checkpoint)["hop_length"]  # its second convolution has stride 2
    return math.prod(config["conv_stride"])


def sample_rate_of(checkpoint: str) -> int:
    """The rate the checkpoint's feature extractor reads audio at (16000)."""
    read_config(checkpoint)  # the folder is a checkpoint
    return int(_preprocessor(checkpoint)["sampling_rate"])


def _preprocessor(checkpoint: str) -> dict:
    return json.loads((Path(checkpoint).expanduser() / "preprocessor_config.json").read_text())


def identity(checkpoint: str) -> str:
    """sha256 (16 hex digits) of the checkpoint's config, feature extractor and
    weights: a checkpoint that changed under the same path gets another store."""
    folder = Path(checkpoint).expanduser().resolve()
    files = [folder / n for n in IDENTITY_FILES if (folder / n).is_file()]
    files += sorted(p for pattern in WEIGHTS for p in folder.glob(pattern))
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _hash_files(stamp)


@functools.cache
def _hash_files(stamp: tuple) -> str:
    """The files' content hash; cached per (path, size, mtime) so a big checkpoint
    is read once per process."""
    h = hashlib.sha256()
    for path, _, _ in stamp:
        h.update(Path(path).name.encode() + b"\0")
        with open(path, "rb") as f:
            while chunk := f.read(1 << 24):
                h.update(chunk)
    return h.hexdigest()[:16]


@functools.cache
def _load(checkpoint: str):
    """(feature extractor, encoder module), loaded once per process from the folder."""
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError:
        raise ConfigError(
            'SSL features need transformers and torch: pip install -e ".[ssl]" (CPU-only torch: '
            "pip install torch --index-url https://download.pytorch.org/whl/cpu first)"
        ) from None
    transformers.logging.set_verbosity_error()  # its load reports and progress bars
    transformers.logging.disable_progress_bar()
    config = read_config(checkpoint)
    extractor = transformers.AutoFeatureExtractor.from_pretrained(checkpoint, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(checkpoint, local_files_only=True)
    if config["model_type"] == "whisper":
        model = model.get_encoder()
    return extractor, model.eval()


def hidden(wave: np.ndarray, checkpoint: str) -> np.ndarray:
    """Every hidden state of a mono 16 kHz wave: [L + 1, T, D] float32."""
    import torch

    extractor, model = _load(checkpoint)
    rate = extractor.sampling_rate
    if read_config(checkpoint)["model_type"] == "whisper":
        # 30 s windows (the encoder's fixed input), each output cut to its audio
        per_window = WHISPER_SECONDS * rate
        out = []
        for start in range(0, len(wave), per_window):
            piece = wave[start : start + per_window]
            x = extractor(piece, sampling_rate=rate, return_tensors="pt").input_features
            with torch.no_grad():
                states = model(x, output_hidden_states=True).hidden_states
            frames = -(-len(piece) // stride(checkpoint))
            out.append(np.stack([s[0, :frames].numpy() for s in states]))
        return np.concatenate(out, axis=1).astype(np.float32)
    inputs = extractor(wave, sampling_rate=rate, return_tensors="pt")
    with torch.no_grad():
        states = model(inputs.input_values, output_hidden_states=True).hidden_states
    return np.stack([s[0].numpy() for s in states]).astype(np.float32)


def extract(wave: np.ndarray, checkpoint: str, layers: str) -> np.ndarray:
    """The stored frames of a wave: [T, D] for one layer, [T, (L + 1) * D] for all."""
    states = hidden(wave, checkpoint)
    if layers == "all":
        return np.ascontiguousarray(states.transpose(1, 0, 2).reshape(states.shape[1], -1))
    return states[-1 if layers == "last" else int(layers)]


def set_threads(n: int) -> None:
    """torch's intra-op threads: extraction runs in the preparing process, on `n` cores."""
    import torch

    torch.set_num_threads(max(1, n))
