"""Files jaxser writes and reads back: writes a kill cannot tear, reads that name
the file when it is damaged. Needs nothing of jaxser (every layer uses it).

- `write_text` / `write_json` / `write_bytes`: to a temporary file beside the target, then
  `os.replace`: a reader sees the old file or the new one, never half of one.
- `append_line`: one JSON line per `write` call; a kill can still cut the last
  line, so `read_jsonl` drops a last line that does not parse (and only that
  one), and `drop_torn_line` cuts it off before a resumed run appends again.
- `read_json`: a missing or damaged file raises `DamagedFile`, whose message names
  the file and what to do.
"""

import json
import os
import threading
from pathlib import Path


class DamagedFile(ValueError):
    """A file jaxser wrote is missing, cut short or not what it should be."""


def write_text(path: os.PathLike | str, text: str) -> None:
    """Writes `text` to `path` atomically (a temporary file, then a rename)."""
    write_bytes(path, text.encode())


def write_bytes(path: os.PathLike | str, data: bytes) -> None:
    """Writes `data` to `path` atomically (a temporary file, then a rename)."""
    path = Path(path)
    # open() (not mkstemp) so the file gets the umask's permissions, like any other
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: os.PathLike | str, obj, indent: int | None = 1) -> None:
    write_text(path, json.dumps(obj, indent=indent) + "\n")


def append_line(path: os.PathLike | str, obj: dict) -> None:
    """Appends `obj` as one JSON line, in a single write."""
    with open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")


def drop_torn_line(path: os.PathLike | str) -> bool:
    """Cuts a last line that a kill left without its newline off a JSON-lines file
    (before appending to it again); whether there was one."""
    path = Path(path)
    if not path.is_file():
        return False
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return False
    with open(path, "r+b") as f:
        f.truncate(data.rfind(b"\n") + 1)
    return True


def read_json(path: os.PathLike | str, fix: str = ""):
    """The JSON value in `path`; DamagedFile naming the file (and `fix`, what to do)
    when it is missing or does not parse."""
    path = Path(path)
    fix = f"; {fix}" if fix else ""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DamagedFile(f"{path} is missing{fix}") from None
    except (IsADirectoryError, UnicodeDecodeError) as e:
        raise DamagedFile(f"{path} cannot be read ({type(e).__name__}){fix}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DamagedFile(
            f"{path} is damaged (not valid JSON at line {e.lineno}: {e.msg}; "
            f"cut short by a kill?){fix}"
        ) from None


def read_jsonl(path: os.PathLike | str) -> list[dict]:
    """The rows of a JSON-lines file (none if it is missing), without a last line
    that a kill cut short; a damaged line before the last raises DamagedFile."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    rows = []
    for i, line in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break  # the one line a kill can tear
            raise DamagedFile(f"{path}, line {i + 1}, is damaged (not valid JSON)") from None
    return rows
