"""Atomic replacement of folders: a process killed at any step leaves one complete folder."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from gan3d_lib.core import atomic

_CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from gan3d_lib.core import atomic

    path, kill_at, swap = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "swap"
    if not swap:
        atomic._exchange = lambda a, b: False
    def die(step):
        if step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    atomic._after_step = die
    with atomic.atomic_dir(path) as tmp:
        for name in ("a.txt", "b.txt"):
            (tmp / name).write_text("new")
        if kill_at == "writing":
            os.kill(os.getpid(), signal.SIGKILL)
""")


def _old_folder(path):
    path.mkdir()
    for name in ("a.txt", "b.txt"):
        (path / name).write_text("old")


def _run_child(path, kill_at: str, mode: str) -> int:
    return subprocess.run([sys.executable, "-c", _CHILD, str(path), kill_at, mode]).returncode


def _contents(path) -> set[str]:
    return {(path / name).read_text() for name in ("a.txt", "b.txt")}


@pytest.mark.parametrize("kill_at, expected", [("writing", {"old"}), ("exchanged", {"new"}), ("never", {"new"})])
def test_a_kill_at_any_step_of_the_swap_leaves_one_complete_folder(tmp_path, kill_at, expected):
    if not atomic._exchange(tmp_path, tmp_path):
        pytest.skip("this system has no renameat2 RENAME_EXCHANGE")
    path = tmp_path / "artefact"
    _old_folder(path)
    rc = _run_child(path, kill_at, "swap")
    assert (rc == 0) == (kill_at == "never")
    assert _contents(path) == expected  # complete: both files, from one version


@pytest.mark.parametrize("kill_at, expected", [("writing", {"old"}), ("renamed", {"new"}), ("never", {"new"})])
def test_without_the_swap_a_kill_outside_the_two_renames_leaves_one_complete_folder(tmp_path, kill_at, expected):
    path = tmp_path / "artefact"
    _old_folder(path)
    _run_child(path, kill_at, "aside")
    assert _contents(path) == expected


def test_without_the_swap_a_kill_between_the_renames_leaves_the_old_folder_aside(tmp_path):
    path = tmp_path / "artefact"
    _old_folder(path)
    _run_child(path, "moved aside", "aside")
    assert not path.exists()
    aside = [p / "artefact" for p in tmp_path.glob(".artefact.old.*")]
    assert len(aside) == 1 and _contents(aside[0]) == {"old"}


def test_an_error_inside_keeps_the_old_folder_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "artefact"
    _old_folder(path)
    with pytest.raises(RuntimeError):
        with atomic.atomic_dir(path) as tmp:
            (tmp / "a.txt").write_text("new")
            raise RuntimeError("boom")
    assert _contents(path) == {"old"} and sorted(p.name for p in tmp_path.iterdir()) == ["artefact"]


def test_a_swap_leaves_no_temporary_behind(tmp_path):
    path = tmp_path / "artefact"
    _old_folder(path)
    with atomic.atomic_dir(path) as tmp:
        for name in ("a.txt", "b.txt"):
            (tmp / name).write_text("new")
    assert _contents(path) == {"new"} and sorted(p.name for p in tmp_path.iterdir()) == ["artefact"]
