"""Sharded generation on Dask: a killed worker's shard is redone, shards verify, the bytes
equal a single-process run; re-runs skip complete shards and redo corrupted ones."""

from __future__ import annotations

import json
import os
import shutil
import signal

import numpy as np
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

from gan3d_lib.precision.artefacts import file_sha256
from gan3d_lib.cli.parser import main
from gan3d_lib.speed.generation import generate_shards, read_manifest, verify_shards
from gan3d_lib.data.io import read_showers
from gan3d_lib.data.mc import ShowerSimulator

SHARD, N_SHARDS, SEED = 128, 4, 5  # Monte Carlo shards are whole blocks of 128 showers
N = SHARD * N_SHARDS
TIMEOUT_S = 120


class KillOnce(WorkerPlugin):
    """SIGKILLs the worker process that starts shard 1, once (the marker file says it happened)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "executing" and "gan3d-shard-00001" in str(key):
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return
            os.kill(os.getpid(), signal.SIGKILL)


def _shas(run):
    return {s["file"]: s["sha256"] for s in run.manifest["shards"]}


@pytest.fixture(scope="module")
def single_process(tmp_path_factory):
    """The same request run as a plain loop in this process."""
    return generate_shards(tmp_path_factory.mktemp("sync"), N, shard_size=SHARD, seed=SEED, scheduler="synchronous",
                           progress=False)


def test_killed_worker_shard_is_redone_and_bytes_equal_one_process(single_process, tmp_path):
    marker = tmp_path / "killed"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.register_plugin(KillOnce(marker))
        pids = set(client.run(os.getpid).values())
        run = generate_shards(tmp_path / "out", N, shard_size=SHARD, seed=SEED, scheduler=cluster.scheduler_address,
                              timeout=TIMEOUT_S, progress=False)
        assert marker.exists() and set(client.run(os.getpid).values()) != pids  # a worker died and was replaced
    assert run.n_showers == N and run.generated == list(range(N_SHARDS)) and run.skipped == []
    assert verify_shards(tmp_path / "out") == [] and read_manifest(tmp_path / "out")["complete"]
    assert _shas(run) == _shas(single_process)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["manifest.json"] + [f"shard_{k:05d}.h5" for k in range(N_SHARDS)]  # no partial files
    showers, energies = read_showers(sorted((tmp_path / "out").glob("shard_*.h5")))
    ref_showers, ref_energies = ShowerSimulator().simulate(N, seed=SEED)
    assert np.array_equal(showers, ref_showers) and np.array_equal(energies, ref_energies)


def test_rerun_skips_complete_shards_and_redoes_corrupted_ones(single_process, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(single_process.manifest_path.parent, out)
    corrupt = out / "shard_00002.h5"
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    (out / ".shard_00003.h5.x1y2.tmp").write_bytes(b"half a shard")  # left by a killed writer
    assert verify_shards(out) == [f"{corrupt}: sha256 differs from manifest.json"]
    run = generate_shards(out, N, shard_size=SHARD, seed=SEED, scheduler="synchronous", progress=False)
    assert run.generated == [2] and run.skipped == [0, 1, 3]
    assert _shas(run) == _shas(single_process) and verify_shards(out) == []
    assert not list(out.glob(".*"))
    with pytest.raises(ValueError, match="another request"):
        generate_shards(out, N, shard_size=SHARD, seed=SEED + 1, scheduler="synchronous", progress=False)


def test_bad_input_gives_clear_errors(tmp_path):
    for kwargs, message in [({"n": 0}, "n_showers must be >= 1"), ({"shard_size": 0}, "shard_size must be >= 1"),
                            ({"source": str(tmp_path / "nope")}, "source must be 'mc' or a gan3d artefact folder"),
                            ({"seed": -1}, "seed must be a non-negative integer")]:
        args = {"n": 10, "shard_size": 5, "seed": 1, "source": "mc", **kwargs}
        with pytest.raises(ValueError, match=message):
            generate_shards(tmp_path / "out", args.pop("n"), scheduler="synchronous", progress=False, **args)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        generate_shards(tmp_path / "out", 10, seed=1, workers=0, progress=False)
    assert not (tmp_path / "out").exists()


def test_gan_artefact_shards_derive_from_seed_and_shard_index(tmp_path):
    from gan3d_lib.models.models import build_generator
    from gan3d_lib.precision.quantization import make_artefact

    art = make_artefact("keras-fp32", build_generator("conv2d", size=0.125, seed=3), tmp_path / "art",
                        model="conv2d", size=0.125, source="untrained")
    runs = [generate_shards(tmp_path / name, 300, source=art.path, shard_size=100, seed=7, scheduler="synchronous",
                            progress=False) for name in ("a", "b")]
    assert _shas(runs[0]) == _shas(runs[1]) and [s["count"] for s in runs[0].manifest["shards"]] == [128, 128, 44]
    assert len({s["latent_seed"] for s in runs[0].manifest["shards"]}) == 3
    again = generate_shards(tmp_path / "a", 300, source=art.path, shard_size=100, seed=7, scheduler="synchronous",
                            progress=False)
    assert again.skipped == [0, 1, 2] and again.manifest == runs[0].manifest
    showers, energies = read_showers(sorted((tmp_path / "a").glob("shard_*.h5")))
    assert showers.shape == (300, 25, 25, 25) and 2.0 <= energies.min() and energies.max() <= 500.0
    last = runs[0].manifest["shards"][2]
    np.testing.assert_array_equal(showers[256:], art.generate(energies[256:], seed=last["latent_seed"]))
    given = np.linspace(10, 400, 300, dtype=np.float32)
    generate_shards(tmp_path / "c", 300, source=art.path, shard_size=100, seed=7, energies_gev=given,
                    scheduler="synchronous", progress=False)
    assert np.array_equal(read_showers(sorted((tmp_path / "c").glob("shard_*.h5")))[1], given)


def test_cli_generate_on_a_local_cluster(single_process, tmp_path, capsys):
    out = tmp_path / "big"
    assert main(["generate", "--source", "mc", "--n", str(N), "--shard-size", str(SHARD), "--seed", str(SEED),
                 "--out", str(out), "--workers", "2", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["n_showers"] == N and summary["generated"] == N_SHARDS and summary["skipped"] == 0
    assert {s["file"]: s["sha256"] for s in read_manifest(out)["shards"]} == _shas(single_process)
    assert {p.name: file_sha256(p) for p in out.glob("shard_*.h5")} == _shas(single_process)
    assert main(["generate", "--source", "nope", "--n", "10", "--seed", "1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "source must be 'mc'" in err
