"""Reading an input file's bytes safely: a regular file only, of a bounded size.

A FIFO would block a reader forever and a device such as /dev/zero would fill the
memory, so anything that is not a regular file (after following symlinks) is refused,
as is a file too large to be an instance table. Every refusal is an InputError that
names the file and says what it is instead.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import InputError, Problem

MAX_BYTES = 256 * 1024 * 1024  # far above any instance table, far below a machine's memory

KINDS = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISCHR: "a character device",
         stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def refusal(path: Path, file: str) -> Problem | None:
    """Why `path` cannot be read as an input file, or None if it can be (not read yet)."""
    if path.is_symlink() and not path.exists():
        return Problem(file, None, None, None, f"a file that exists: it is a symlink to {os.readlink(path)}, which does not")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return Problem(file, None, None, None, "a file that exists")
    except OSError as e:  # a symlink loop, a name too long, ...
        return Problem(file, None, None, None, f"a readable file ({e.strerror or e})")
    for test, kind in KINDS.items():
        if test(mode):
            return Problem(file, None, None, None, f"a regular file, not {kind}")
    return None


def read_bytes(path: str | Path, file: str | None = None, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; InputError naming `file`
    (default: the file's name) for anything else."""
    path = Path(path)
    file = file or path.name
    problem = refusal(path, file)
    if problem:
        raise InputError(problem)
    try:
        # O_NONBLOCK: if the file became a FIFO since the check, opening it does not wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(Problem(file, None, None, None, f"a readable file ({e.strerror or e})")) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(Problem(file, None, None, None, "a regular file"))
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(Problem(file, None, None, f"more than {limit // (1024 * 1024)} MB",
                                 f"a file of at most {limit // (1024 * 1024)} MB"))
    return data
