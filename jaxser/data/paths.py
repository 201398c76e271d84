"""Where jaxser keeps what it computes (no TensorFlow needed to ask)."""

import os
from pathlib import Path

MANIFEST = "manifest.json"  # written last in a store: the store is complete


def default_data_dir() -> Path:
    """`$JAXSER_DATA_DIR`, else `~/.cache/jaxser`: prepared corpora under
    `<corpus>/<feature key>/`, shared pretraining stages under `models/`."""
    return Path(os.environ.get("JAXSER_DATA_DIR") or Path.home() / ".cache" / "jaxser")


def resolve_data_dir(configured: str | os.PathLike | None = None) -> Path:
    """The data dir a run uses: the configured one (`data.data_dir`), else the default."""
    return Path(configured or default_data_dir()).expanduser()


def corpus_folder(corpus: str) -> str:
    """The data dir's folder of a corpus: its name, ":" written "-"
    ("emobox:tess" -> "emobox-tess")."""
    return corpus.replace(":", "-")


def store_dir(corpus: str, data_dir, feature_key: str) -> Path:
    """The prepared store of `corpus` for the feature config whose key is given."""
    return resolve_data_dir(data_dir) / corpus_folder(corpus) / feature_key


def prepare_command(corpus: str, synthetic: bool, data_dir=None) -> str:
    """The command that prepares `corpus` (real corpora need their folder)."""
    path = "" if synthetic else " --path /path/to/" + corpus
    dd = f" --data_dir {data_dir}" if data_dir else ""
    return f"python -m jaxser.prepare --corpus {corpus}{path}{dd}"
