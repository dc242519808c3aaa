"""Atomic writes: a file or folder appears complete under its final name, or not at all."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_file", "atomic_dir"]


@contextmanager
def atomic_file(path: str | os.PathLike, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``, on any
    error it is removed and ``path`` keeps what it held."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap the two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system
    has no such call."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):  # kernel or file system without the flag
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _step(name: str) -> None:
    """Called between the steps of a replacement; tests set it to kill the process there."""
    if _after_step is not None:
        _after_step(name)


_after_step = None


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path``, on any error it
    is removed. An old folder of that name is swapped with the new one in one step (Linux), or,
    where the system cannot swap, moved aside, the new one renamed in, then the old removed; a
    process killed at any point leaves one complete folder under ``path`` (the old or the new),
    except, without the swap, between the two renames."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not path.exists():
        os.replace(tmp, path)
        _step("renamed")
        return
    if _exchange(tmp, path):
        _step("exchanged")
        shutil.rmtree(tmp)  # now the old folder
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
    os.replace(path, aside / path.name)
    _step("moved aside")
    os.replace(tmp, path)
    _step("renamed")
    shutil.rmtree(aside)
