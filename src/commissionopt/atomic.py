"""Writing outputs so that a reader sees the old result or the new one, never a mix.

A file or a whole folder is written under a hidden temporary name beside its target
(`.NAME.HOST-PID.TOKEN.tmp`), flushed to disk, then renamed into place in one step.
Nothing that exists is replaced unless `force` is given; a target that appears while we
write (another run) is not replaced either. A temporary left by a killed run is removed
by the next write to the same target once its process is gone. An OSError (a full
disk, a missing permission) names the target, not the temporary.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path

from .errors import CommissionoptError


class OutputExistsError(CommissionoptError):
    """An output exists and replacing it was not asked for."""
    exit_code = 1

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path} exists: not replaced (add --force to replace it)")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def _temporary(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.name}.{_host()}-{os.getpid()}.{secrets.token_hex(4)}.{suffix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(path: Path) -> None:
    """Remove temporaries of `path` left by runs of this host whose process has ended
    (a previous result moved aside goes back if nothing took its place)."""
    pattern = re.compile(re.escape(f".{path.name}.{_host()}-") + r"(\d+)\.[0-9a-f]{8}\.(tmp|old)")
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return
    for p in siblings:
        m = pattern.fullmatch(p.name)
        if m and not _alive(int(m.group(1))):
            if m.group(2) == "old" and not (path.exists() or path.is_symlink()):
                os.replace(p, path)  # killed between moving the old result aside and the new in
            else:
                _remove(p)


def _remove(p: Path) -> None:
    try:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    except FileNotFoundError:
        pass


def occupied(path: Path) -> bool:
    """True if writing `path` would replace something: a file, or a folder that is not empty."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        return any(True for _ in path.iterdir())
    return path.exists() or path.is_symlink()


def check_free(path: str | Path, force: bool = False) -> None:
    """Raise OutputExistsError if `path` holds something and `force` is not given (call it
    before long work, so that a refusal comes first, not after the solve)."""
    if not force and occupied(Path(path)):
        raise OutputExistsError(Path(path))


def _named(e: OSError, tmp: Path, target: Path) -> OSError:
    """The same error, naming the target (inside a folder: the file's place in the target)."""
    name = str(e.filename) if e.filename else ""
    if name.startswith(str(tmp)):
        name = str(target) + name[len(str(tmp)):]
    return OSError(e.errno, e.strerror or str(e), name or str(target))


def _fsync(path: Path) -> None:
    if path.is_dir():
        for p in path.rglob("*"):
            if p.is_file():
                _fsync(p)
        return
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _place(tmp: Path, path: Path, force: bool) -> None:
    """Rename `tmp` to `path`: never over something unless `force` (then the old is moved
    aside first and removed after, so a reader sees the old or the new whole)."""
    if tmp.is_dir():
        if occupied(path):
            if not force:
                raise OutputExistsError(path)
            old = _temporary(path, "old")
            os.replace(path, old)
            try:
                os.rename(tmp, path)
            except OSError:
                if not path.exists():
                    os.replace(old, path)  # put the old result back
                raise
            _remove(old)
            return
        try:
            os.rename(tmp, path)  # over an empty folder, or none
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):  # appeared meanwhile
                raise OutputExistsError(path) from None
            raise
        return
    if force and not (path.is_dir() and not path.is_symlink()):
        os.replace(tmp, path)
        return
    if occupied(path):
        raise OutputExistsError(path)
    try:
        os.link(tmp, path)  # fails, and replaces nothing, if the name was taken meanwhile
    except FileExistsError:
        raise OutputExistsError(path) from None
    except OSError:  # a file system without hard links
        if occupied(path):
            raise OutputExistsError(path) from None
        os.replace(tmp, path)
    else:
        tmp.unlink()


@contextmanager
def _atomic(path: str | Path, force: bool, folder: bool):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    tmp = _temporary(path, "tmp")
    try:
        if folder:
            tmp.mkdir()
        try:
            yield tmp
            _fsync(tmp)
            _place(tmp, path, force)
        except OSError as e:
            raise _named(e, tmp, path) from None
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)


def atomic_file(path: str | Path, force: bool = True):
    """Context manager: yields a temporary path beside `path`; on success the file takes
    `path`'s place in one step (replacing a file there only if `force`)."""
    return _atomic(path, force, folder=False)


def atomic_folder(path: str | Path, force: bool = False):
    """Context manager: yields a temporary folder beside `path` to fill; on success it takes
    `path`'s place whole (an empty folder there is fine; anything else only with `force`)."""
    return _atomic(path, force, folder=True)
