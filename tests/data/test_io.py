import os

import h5py
import numpy as np
import pytest

from gan3d_lib.data.io import (ShowerFileError, inspect_shower_file, iter_shower_batches, read_showers,
                          write_showers)


def _showers(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.exponential(1e-3, (n, 25, 25, 25)).astype(np.float32), np.linspace(10, 400, n).astype(np.float32)


def _h5(path, **datasets):
    with h5py.File(path, "w") as f:
        for k, v in datasets.items():
            f.create_dataset(k, data=v)
    return path


def test_round_trip_keeps_cern_layout(tmp_path):
    s, e = _showers()
    path = write_showers(tmp_path / "sub" / "x.h5", s, e, attrs={"seed": 3})
    with h5py.File(path) as f:
        assert f["ECAL"].shape == (4, 25, 25, 25) and f["ECAL"].compression == "gzip"
        assert f["target"][:, 1] == pytest.approx(e)
        assert f.attrs["seed"] == 3
    s2, e2 = read_showers(path)
    assert s2.tobytes() == s.tobytes() and e2.tobytes() == e.tobytes()
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["x.h5"]  # no temporary left


def test_reads_energy_key_and_wide_target(tmp_path):
    s, e = _showers()
    _h5(tmp_path / "a.h5", ECAL=s, energy=e[:, None])
    _h5(tmp_path / "b.h5", ECAL=s.astype(np.float64), target=np.stack([e * 0, e, e, e, e], 1))
    for name in ("a.h5", "b.h5"):
        s2, e2 = read_showers(tmp_path / name)
        assert s2.dtype == np.float32 and e2 == pytest.approx(e)


def test_streaming_over_a_glob_in_batches(tmp_path):
    for i in range(3):
        s, e = _showers(5, seed=i)
        write_showers(tmp_path / f"EleEscan_1_{i}.h5", s, e)
    batches = list(iter_shower_batches(str(tmp_path / "EleEscan_*.h5"), batch_size=2))
    assert [len(b[1]) for b in batches] == [2, 2, 1] * 3
    s, e = read_showers(str(tmp_path / "EleEscan_*.h5"), max_showers=7)
    assert s.shape == (7, 25, 25, 25)


def _bad_files(tmp_path):
    s, e = _showers()
    bad_nan, bad_neg = s.copy(), s.copy()
    bad_nan[1, 3, 4, 5] = np.nan
    bad_neg[2, 0, 0, 0] = -0.5
    (tmp_path / "text.h5").write_text("this is not HDF5\n")
    good = write_showers(tmp_path / "good.h5", s, e)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    e_nan = e.copy()
    e_nan[0] = np.nan
    return {
        "missing file": (tmp_path / "nope.h5", "no such file"),
        "not hdf5": (tmp_path / "text.h5", "not a readable HDF5 file"),
        "truncated": (truncated, "not a readable HDF5 file"),
        "missing ECAL": (_h5(tmp_path / "m1.h5", target=np.stack([e, e], 1)), "'ECAL': missing"),
        "missing energy": (_h5(tmp_path / "m2.h5", ECAL=s), "'target': missing"),
        "wrong rank": (_h5(tmp_path / "r.h5", ECAL=s.reshape(4, 625, 25), energy=e), "rank 3"),
        "wrong shape": (_h5(tmp_path / "sh.h5", ECAL=s[:, :, :, :24], energy=e), "expected (N, 25, 25, 25)"),
        "integer dtype": (_h5(tmp_path / "dt.h5", ECAL=s.astype(np.int32), energy=e), "not floating point"),
        "nan cell": (_h5(tmp_path / "nan.h5", ECAL=bad_nan, energy=e), "NaN or inf) in shower 1"),
        "negative cell": (_h5(tmp_path / "neg.h5", ECAL=bad_neg, energy=e), "negative cell energy"),
        "energy out of range": (_h5(tmp_path / "rng.h5", ECAL=s, energy=e * 2), "outside the stated range"),
        "nan energy": (_h5(tmp_path / "enan.h5", ECAL=s, energy=e_nan), "non-finite primary energy"),
        "length mismatch": (_h5(tmp_path / "len.h5", ECAL=s, energy=e[:3]), "has 3 entries but 'ECAL' has 4"),
        "target one column": (_h5(tmp_path / "t1.h5", ECAL=s, target=e[:, None]), "expected (N, k >= 2)"),
        "empty": (_h5(tmp_path / "empty.h5", ECAL=s[:0], energy=e[:0]), "no showers"),
        "directory": (tmp_path, "is a directory"),
    }


def test_malformed_files_get_one_line_errors(tmp_path):
    cases = _bad_files(tmp_path)
    assert len(cases) >= 10
    for name, (path, expected) in cases.items():
        with pytest.raises(ShowerFileError) as info:
            read_showers(path)
        msg = str(info.value)
        assert "\n" not in msg, name
        assert msg.startswith(str(path)), name
        assert expected in msg, (name, msg)


def test_structure_is_checked_before_any_batch(tmp_path):
    s, e = _showers()
    good = write_showers(tmp_path / "a.h5", s, e)
    bad = _h5(tmp_path / "b.h5", ECAL=s[:, :, :, :24], energy=e)
    with pytest.raises(ShowerFileError, match="b.h5"):
        next(iter_shower_batches([good, bad]))
    assert inspect_shower_file(good).n_showers == 4


def test_range_check_can_be_disabled(tmp_path):
    s, e = _showers()
    path = _h5(tmp_path / "hi.h5", ECAL=s, energy=e * 3)
    assert read_showers(path, energy_range_gev=None)[1].max() == pytest.approx(1200)


def test_failed_write_leaves_nothing_and_keeps_old_file(tmp_path):
    s, e = _showers()
    path = write_showers(tmp_path / "x.h5", s, e)
    before = path.read_bytes()
    bad = s.copy()
    bad[0, 0, 0, 0] = np.inf
    with pytest.raises(ShowerFileError, match="non-finite"):
        write_showers(path, bad, e)
    with pytest.raises(TypeError):
        write_showers(path, s, e, attrs={"unstorable": object()})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["x.h5"]
