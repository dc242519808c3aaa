"""Shower files in the CERN 3DGAN HDF5 layout.

Layout (read and written):

* ``ECAL``: (N, 25, 25, 25) float cell energies in GeV. Axis order (x, y, depth):
  x and y are transverse cell indices, depth is the layer index (0 = front).
* ``target``: (N, k >= 2) float, with the primary energy in GeV in column 1
  (``target[:, 1]``), as in ``EleEscan_*.h5``. Files written here have k = 2 with
  column 0 holding the PDG code of the primary (11, electron).
* ``energy``: (N,) or (N, 1) float primary energy in GeV; used when ``target`` is absent.

Every malformed input raises :class:`ShowerFileError` with one line naming the file,
the dataset and the problem. Writes go to a temporary file in the same folder and are
renamed into place, so a reader never sees a half-written file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..core.atomic import atomic_file
from ..physics.geometry import ENERGY_RANGE_GEV

__all__ = [
    "SHOWER_SHAPE",
    "DEFAULT_ENERGY_RANGE_GEV",
    "ShowerFileError",
    "ShowerFileInfo",
    "write_showers",
    "read_showers",
    "inspect_shower_file",
    "iter_shower_batches",
    "expand_paths",
    "open_shower_file",
]

SHOWER_SHAPE = (25, 25, 25)
DEFAULT_ENERGY_RANGE_GEV = ENERGY_RANGE_GEV
_RANGE_TOLERANCE = 1e-3  # relative slack on the energy range (float32 round-off)
_PDG_ELECTRON = 11


class ShowerFileError(ValueError):
    """A shower file is missing, unreadable or does not follow the 3DGAN layout."""

    def __init__(self, path: str | os.PathLike, key: str | None, problem: str):
        self.path, self.key, self.problem = str(path), key, problem
        where = f"{self.path}: dataset '{key}'" if key else f"{self.path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class ShowerFileInfo:
    """Structure of a validated shower file (no cell data loaded)."""

    path: str
    n_showers: int
    shower_shape: tuple[int, ...]
    energy_key: str


def expand_paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Expand a path, a glob pattern or a list of either into a sorted list of files."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out: list[str] = []
    for item in items:
        s = str(item)
        if glob.has_magic(s):
            matched = sorted(glob.glob(s))
            if not matched:
                raise ShowerFileError(s, None, "glob pattern matches no file")
            out.extend(matched)
        else:
            out.append(s)
    return out


def open_shower_file(path: str) -> h5py.File:
    """``path`` opened read-only with h5py; a missing, folder or unreadable path raises :class:`ShowerFileError`."""
    if not os.path.exists(path):
        raise ShowerFileError(path, None, "no such file")
    if os.path.isdir(path):
        raise ShowerFileError(path, None, "is a directory, expected an HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise ShowerFileError(path, None, f"not a readable HDF5 file (truncated or another format): {exc}") from None


def _check_float(path: str, key: str, ds: h5py.Dataset) -> None:
    if ds.dtype.kind != "f":
        raise ShowerFileError(path, key, f"dtype {ds.dtype} is not floating point (expected float32 or float64)")


def _structure(path: str, f: h5py.File, shower_shape: tuple[int, ...]) -> ShowerFileInfo:
    if "ECAL" not in f:
        raise ShowerFileError(path, "ECAL", f"missing (expected (N, {', '.join(map(str, shower_shape))}) cell energies in GeV)")
    ecal = f["ECAL"]
    if not isinstance(ecal, h5py.Dataset):
        raise ShowerFileError(path, "ECAL", "is a group, expected a dataset")
    _check_float(path, "ECAL", ecal)
    if ecal.ndim != 1 + len(shower_shape):
        raise ShowerFileError(path, "ECAL", f"rank {ecal.ndim} with shape {ecal.shape}, expected rank "
                                            f"{1 + len(shower_shape)} (N, {', '.join(map(str, shower_shape))})")
    if tuple(ecal.shape[1:]) != tuple(shower_shape):
        raise ShowerFileError(path, "ECAL", f"shape {ecal.shape}, expected (N, {', '.join(map(str, shower_shape))})")
    n = ecal.shape[0]
    if n == 0:
        raise ShowerFileError(path, "ECAL", "holds no showers (N = 0)")
    if "target" in f:
        key = "target"
        t = f[key]
        _check_float(path, key, t)
        if t.ndim != 2 or t.shape[1] < 2:
            raise ShowerFileError(path, key, f"shape {t.shape}, expected (N, k >= 2) with the primary energy in GeV in column 1")
    elif "energy" in f:
        key = "energy"
        t = f[key]
        _check_float(path, key, t)
        if not (t.ndim == 1 or (t.ndim == 2 and t.shape[1] == 1)):
            raise ShowerFileError(path, key, f"shape {t.shape}, expected (N,) or (N, 1) primary energies in GeV")
    else:
        raise ShowerFileError(path, "target",
                              "missing, and no 'energy' dataset either (expected target[:, 1] = primary energy in GeV)")
    if t.shape[0] != n:
        raise ShowerFileError(path, key, f"has {t.shape[0]} entries but 'ECAL' has {n} showers")
    return ShowerFileInfo(path=path, n_showers=n, shower_shape=tuple(ecal.shape[1:]), energy_key=key)


def _read_energies(f: h5py.File, info: ShowerFileInfo, sl: slice) -> np.ndarray:
    ds = f[info.energy_key]
    e = ds[sl, 1] if info.energy_key == "target" else ds[sl]
    return np.asarray(e, dtype=np.float32).reshape(-1)


def _check_values(
    info: ShowerFileInfo,
    showers: np.ndarray,
    energies: np.ndarray,
    offset: int,
    energy_range_gev: tuple[float, float] | None,
) -> None:
    path = info.path
    if not np.all(np.isfinite(energies)):
        i = offset + int(np.flatnonzero(~np.isfinite(energies))[0])
        raise ShowerFileError(path, info.energy_key, f"non-finite primary energy (NaN or inf) at shower {i}")
    if energy_range_gev is not None:
        lo, hi = energy_range_gev
        bad = (energies < lo * (1 - _RANGE_TOLERANCE)) | (energies > hi * (1 + _RANGE_TOLERANCE))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ShowerFileError(path, info.energy_key, f"primary energy {energies[i]:.4g} GeV at shower {offset + i} "
                                                         f"outside the stated range [{lo:g}, {hi:g}] GeV")
    finite = np.isfinite(showers)
    if not finite.all():
        i = offset + int(np.argwhere(~finite)[0][0])
        raise ShowerFileError(path, "ECAL", f"non-finite cell energy (NaN or inf) in shower {i}")
    if (showers < 0).any():
        idx = np.argwhere(showers < 0)[0]
        raise ShowerFileError(path, "ECAL", f"negative cell energy {showers[tuple(idx)]:.3g} GeV in shower "
                                            f"{offset + int(idx[0])} at cell {tuple(int(v) for v in idx[1:])}")


def inspect_shower_file(path: str | os.PathLike, *, shower_shape: tuple[int, ...] = SHOWER_SHAPE) -> ShowerFileInfo:
    """Check a file's structure (keys, ranks, shapes, dtypes, lengths) without loading cells."""
    p = str(path)
    with open_shower_file(p) as f:
        return _structure(p, f, shower_shape)


def read_showers(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    max_showers: int | None = None,
    energy_range_gev: tuple[float, float] | None = DEFAULT_ENERGY_RANGE_GEV,
    shower_shape: tuple[int, ...] = SHOWER_SHAPE,
) -> tuple[np.ndarray, np.ndarray]:
    """Read and validate showers from one file, a list, or a glob pattern.

    Args:
        paths: file, glob pattern (``data/EleEscan_*.h5``) or a list of them.
        max_showers: stop after this many showers (None: all).
        energy_range_gev: allowed primary energies in GeV, or None to accept any > 0.
        shower_shape: expected per-shower shape (x, y, depth).

    Returns:
        showers (N, 25, 25, 25) float32 GeV and energies (N,) float32 GeV.
    """
    batches = list(iter_shower_batches(paths, batch_size=4096, max_showers=max_showers,
                                       energy_range_gev=energy_range_gev, shower_shape=shower_shape))
    if not batches:
        return np.empty((0, *shower_shape), np.float32), np.empty(0, np.float32)
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def iter_shower_batches(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    batch_size: int = 1024,
    max_showers: int | None = None,
    energy_range_gev: tuple[float, float] | None = DEFAULT_ENERGY_RANGE_GEV,
    shower_shape: tuple[int, ...] = SHOWER_SHAPE,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream validated (showers, energies) batches over many files without loading all.

    Every file's structure is checked before the first batch is produced, so a bad file
    late in a list fails fast. Values (NaN, negative cells, energy range) are checked per
    batch as they are read.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    files = expand_paths(paths)
    infos = [inspect_shower_file(p, shower_shape=shower_shape) for p in files]
    remaining = np.inf if max_showers is None else int(max_showers)
    for info in infos:
        with open_shower_file(info.path) as f:
            for start in range(0, info.n_showers, batch_size):
                if remaining <= 0:
                    return
                stop = int(min(info.n_showers, start + batch_size, start + remaining))
                sl = slice(start, stop)
                showers = np.asarray(f["ECAL"][sl], dtype=np.float32)
                energies = _read_energies(f, info, sl)
                _check_values(info, showers, energies, start, energy_range_gev)
                remaining -= stop - start
                yield showers, energies


def write_showers(
    path: str | os.PathLike,
    showers: np.ndarray,
    energies_gev: np.ndarray,
    *,
    attrs: dict | None = None,
    compression_level: int = 4,
) -> Path:
    """Write showers atomically in the 3DGAN layout (``ECAL``, ``target``, ``energy``).

    Args:
        path: output file; parent folders are created.
        showers: (N, 25, 25, 25) cell energies in GeV, finite and >= 0.
        energies_gev: (N,) primary energies in GeV.
        attrs: extra file attributes (seed, generator settings...); values are stored as
            HDF5 attributes (strings, numbers).
        compression_level: gzip level for the chunked ``ECAL`` dataset.

    Returns:
        The final path. On any error no file (and no temporary file) is left behind.
    """
    path = Path(path)
    showers = np.asarray(showers)
    energies_gev = np.asarray(energies_gev).reshape(-1)
    if showers.ndim != 4:
        raise ShowerFileError(path, "ECAL", f"refusing to write array of shape {showers.shape}, expected (N, x, y, depth)")
    if energies_gev.shape[0] != showers.shape[0]:
        raise ShowerFileError(path, "target", f"{energies_gev.shape[0]} energies for {showers.shape[0]} showers")
    if not np.all(np.isfinite(showers)) or (showers < 0).any():
        raise ShowerFileError(path, "ECAL", "refusing to write non-finite or negative cell energies")
    with atomic_file(path) as tmp, h5py.File(tmp, "w") as f:
        n = showers.shape[0]
        chunk = (max(1, min(n, 64)), *showers.shape[1:])
        f.create_dataset("ECAL", data=showers.astype(np.float32), chunks=chunk,
                         compression="gzip", compression_opts=compression_level, shuffle=True)
        target = np.stack([np.full(n, _PDG_ELECTRON, np.float32), energies_gev.astype(np.float32)], axis=1)
        f.create_dataset("target", data=target)
        f.create_dataset("energy", data=energies_gev.astype(np.float32))
        f.attrs["layout"] = "CERN 3DGAN: ECAL (N,x,y,depth) GeV; target[:,1] primary energy GeV"
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
    return path
