"""Where jaxser keeps what it computes (no TensorFlow needed to ask)."""

import os
from pathlib import Path


def default_data_dir() -> Path:
    """`$JAXSER_DATA_DIR`, else `~/.cache/jaxser`: prepared corpora under
    `<corpus>/<feature key>/`, shared pretraining stages under `models/`."""
    return Path(os.environ.get("JAXSER_DATA_DIR") or Path.home() / ".cache" / "jaxser")


def resolve_data_dir(configured: str | os.PathLike | None = None) -> Path:
    """The data dir a run uses: the configured one (`data.data_dir`), else the default."""
    return Path(configured or default_data_dir()).expanduser()
