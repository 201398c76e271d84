"""A tiny, randomly initialised SSL checkpoint folder, to try `ssl:` features
end to end without a download (plumbing, not accuracy).

    python tools/tiny_ssl.py /tmp/tiny_wavlm --family wavlm
    python -m jaxser.prepare --corpus synth_emodb --features ssl:/tmp/tiny_wavlm:all

Writes what `save_pretrained` writes for a real checkpoint: config.json, the
weights and the feature extractor's preprocessor_config.json. Families:
wav2vec2, wavlm, hubert, data2vec-audio (2 layers of width 32 over a 7-layer
convolutional front end: 50 frames a second) and whisper (a 2-layer encoder of
width 32 on 80 mel bins). Needs the ssl extra.
"""

import argparse
from pathlib import Path

ENCODER = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(16,) * 7,
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
)
FAMILIES = {  # name -> transformers' class prefix
    "wav2vec2": "Wav2Vec2",
    "wavlm": "WavLM",
    "hubert": "Hubert",
    "data2vec-audio": "Data2VecAudio",
    "whisper": "Whisper",
}


def save(folder: Path, family: str, seed: int = 0) -> Path:
    """Saves a tiny random checkpoint of `family` (with its feature extractor) in
    `folder` and returns it."""
    import torch
    import transformers

    torch.manual_seed(seed)
    prefix = FAMILIES[family]
    if family == "whisper":
        config = transformers.WhisperConfig(
            d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2,
            decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=64,
            pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
            max_target_positions=16,
        )  # fmt: skip
        extractor = transformers.WhisperFeatureExtractor(feature_size=80)
    else:
        config = getattr(transformers, f"{prefix}Config")(**ENCODER)
        extractor = transformers.Wav2Vec2FeatureExtractor(do_normalize=True)
    model = getattr(transformers, f"{prefix}Model")(config)
    model.eval().save_pretrained(folder)
    extractor.save_pretrained(folder)
    return Path(folder)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("folder", type=Path)
    p.add_argument("--family", default="wavlm", choices=sorted(FAMILIES))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    print(save(args.folder, args.family, args.seed))


if __name__ == "__main__":
    main()
