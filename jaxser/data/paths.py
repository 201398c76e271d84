"""Where jaxser keeps what it computes (no TensorFlow needed to ask)."""

import os
from pathlib import Path


def default_data_dir() -> Path:
    """`$JAXSER_DATA_DIR`, else `~/.cache/jaxser`: prepared corpora under
    `<corpus>/<feature key>/`, shared pretraining stages under `models/`."""
    return Path(os.environ.get("JAXSER_DATA_DIR") or Path.home() / ".cache" / "jaxser")


def models_dir(data_dir: str | os.PathLike = "") -> Path:
    return Path(data_dir or default_data_dir()).expanduser() / "models"
