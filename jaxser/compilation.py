"""JAX's persistent compilation cache, on by default for every run.

XLA's executables (the train step, the model's init, the evaluation forward)
are written under `<data dir>/xla_cache/`, so that a second run of a config on
this machine, and every run of a sweep after the first of its shapes, reads
them back instead of compiling them again. Where:

- `train.compilation_cache`: a folder, or `off`;
- else `$JAXSER_COMPILATION_CACHE`: a folder, or `off`;
- else `xla_cache/` in the run's data dir (`data.data_dir`, `$JAXSER_DATA_DIR`,
  `~/.cache/jaxser`).

The cache is keyed by the computation, the jax/jaxlib versions, the devices and
XLA's flags, so one folder serves every machine and version that shares it.
Concurrent processes (a sweep's workers) share it safely: with a size limit
set, JAX's cache reads and writes each entry under a file lock, and evicts the
least recently used entries past `MAX_BYTES`.
"""

import os
import sys
from pathlib import Path

import jax
from jax.experimental.compilation_cache import compilation_cache

from jaxser.data import paths

ENV = "JAXSER_COMPILATION_CACHE"
OFF = ("off", "none", "false", "0")
FOLDER = "xla_cache"  # in the data dir
MAX_BYTES = 4 * 2**30  # least recently used entries go past this
# computations that compile faster than this are not worth a file (eager ops)
MIN_COMPILE_SECONDS = 0.1


def cache_dir(config) -> Path | None:
    """Where the run of `config` caches its compilations (None: nowhere)."""
    setting = str(config.train.compilation_cache or os.environ.get(ENV, "")).strip()
    if setting.lower() in OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    return paths.resolve_data_dir(config.data.data_dir) / FOLDER


def use_cache(path: Path | None) -> None:
    """Compilations from now on in this process are read from and written to
    `path` (None: not cached). A no-op when it is already the cache in use; a
    folder that cannot be made is warned about in one line, and not used."""
    if path is not None:
        try:
            Path(path).mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a read-only or missing disk: compile, but say so
            print(f"warning: no compilation cache ({e}); compiling without one", file=sys.stderr)
            path = None
    want = str(path) if path is not None else None
    if jax.config.jax_compilation_cache_dir == want:
        return
    jax.config.update("jax_compilation_cache_dir", want)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    # JAX decides whether to use a cache at its first compilation; a process that
    # compiled before (or with another folder) decides again
    compilation_cache.reset_cache()


def configure(config) -> None:
    """`use_cache(cache_dir(config))`."""
    use_cache(cache_dir(config))
