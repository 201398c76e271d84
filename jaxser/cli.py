"""What the command-line tools share: errors a user can act on, as one line
(`error: ...`, exit status 1), and `--debug` (or JAXSER_DEBUG=1) to see the
traceback instead. Light: no JAX, no TensorFlow."""

import argparse
import contextlib
import os
import sys

from jaxser import files
from jaxser.config import ConfigError

# what every tool reports in one line; each adds its own (NonFiniteLoss, ...)
USER_ERRORS = (ConfigError, FileNotFoundError, NotADirectoryError, files.DamagedFile)


def add_debug(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--debug",
        action="store_true",
        help="on an error, show the full traceback (also JAXSER_DEBUG=1)",
    )


def debugging(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("JAXSER_DEBUG", "") not in (
        "",
        "0",
    )


@contextlib.contextmanager
def one_line_errors(debug: bool, *more: type[BaseException]):
    """Turns the user errors (USER_ERRORS and `more`) raised inside into one
    `error: ...` line and exit status 1; with `debug`, lets them through."""
    try:
        yield
    except (*USER_ERRORS, *more) as e:
        if debug:
            raise
        sys.exit(f"error: {e}")
