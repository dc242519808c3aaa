"""The CPU's arithmetic limits and each artefact's share of them: nominal peaks from the clock
and the ISA, and the roofline of benchmark records against the peaks matrix products reach
(measured by :mod:`gan3d_lib.speed.gemm_peaks`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .bench import best_batch
from ..precision.backends import backend_of, tuned

__all__ = ["peak_macs_per_s", "arithmetic_precision", "roofline"]


def _clock_ghz() -> float | None:
    """Nominal maximum core clock in GHz: cpufreq if exposed, else the highest 'cpu MHz' seen."""
    try:
        return int(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()) / 1e6
    except (OSError, ValueError):
        pass
    try:
        mhz = [float(line.split(":", 1)[1]) for line in open("/proc/cpuinfo") if line.startswith("cpu MHz")]
        return max(mhz) / 1e3 if mhz else None
    except OSError:
        return None


def peak_macs_per_s(machine: dict | None = None, *, cores: int | None = None, clock_ghz: float | None = None,
                    fma_units: int = 2, at_least_macs_per_s: float | None = None) -> dict:
    """Theoretical multiply-accumulates per second of this CPU, FP32 and INT8.

    Per core and cycle: FP32 = ``fma_units`` x (vector bits / 32) (one FMA = one MAC per lane);
    INT8 with VNNI = ``fma_units`` x (vector bits / 8) (``vpdpbusd``: four u8*s8 products per
    32-bit lane); INT8 without VNNI needs two instructions (``vpmaddubsw`` + ``vpmaddwd``)
    for the same work, half that. Vector bits: 512 with AVX-512F, 256 with AVX2, else 128.
    ``fma_units`` = 2 is an assumption (true of Xeon Gold/Platinum and AMD Zen 2-4 cores).
    The clock is the OS's nominal one; virtual machines often report the base clock while
    cores turbo above it, so ``at_least_macs_per_s`` (an FP32 rate measured here, e.g.
    :func:`~gan3d_lib.speed.gemm_peaks.measured_peaks`' ``fp32``) raises the clock to the lowest one that rate implies.
    """
    from ..core.results import machine_info

    m = machine or machine_info()
    cores = cores or m["usable_cores"]
    nominal = clock = clock_ghz or _clock_ghz()
    bits = 512 if m.get("avx512f") else 256 if m.get("avx2") else 128
    vnni = bool(m.get("avx512_vnni") or m.get("avx_vnni"))
    fp32_per_cycle = fma_units * bits // 32
    int8_per_cycle = fma_units * bits // 8 if vnni else fma_units * bits // 16
    if at_least_macs_per_s:
        clock = max(clock or 0.0, at_least_macs_per_s / (cores * fp32_per_cycle) / 1e9)
    hz = None if clock is None else cores * clock * 1e9
    return {"cores": cores, "clock_ghz": clock, "nominal_clock_ghz": nominal, "vector_bits": bits, "vnni": vnni,
            "fma_units": fma_units,
            "fp32_macs_per_cycle_per_core": fp32_per_cycle, "int8_macs_per_cycle_per_core": int8_per_cycle,
            "fp32": None if hz is None else hz * fp32_per_cycle, "int8": None if hz is None else hz * int8_per_cycle,
            "int8_over_fp32": int8_per_cycle / fp32_per_cycle}


def arithmetic_precision(backend: str, machine: dict) -> str:
    """The arithmetic a backend's convolutions run in on this CPU: 'int8' or 'fp32'.

    TFLite FP16 models are dequantized to FP32 on x86; BF16 runs as FP32 arithmetic (with
    conversions) where the CPU has no AVX-512 BF16, and counts as FP32 there too.
    """
    b = backend_of(backend)
    if b is None or backend not in (b.name, tuned(b.name)):
        return "fp32"
    if b.int8:
        return "int8"
    if b.precision == "bf16" and all(machine.get(flag) for flag in b.cpu_flags):
        return "bf16"
    return "fp32"


def roofline(records: Sequence[dict], macs_per_shower: dict[tuple[str, str], int], peaks: dict,
             machine: dict) -> list[dict]:
    """Best-batch throughput of each artefact as multiply-accumulates per second and as a
    fraction of ``peaks`` for its arithmetic ({'fp32', 'int8', optional 'bf16'} MACs/s, e.g.
    :func:`gemm_peaks.measured_peaks`). The peaks are inputs: no record moves them. An
    arithmetic whose peak was not measured (None or absent, e.g. BF16 on a CPU without it) gets
    no fraction and the note 'peak not measured'.

    ``macs_per_shower`` maps (model, size) to MACs per shower (:func:`models.multiply_accumulates`).
    """
    rows = []
    for path in dict.fromkeys(r["artefact"] for r in records if r["status"] == "ok"):
        best = best_batch(records, path)
        kind = arithmetic_precision(best["backend"], machine)
        peak = peaks.get(kind)
        macs = best["showers_per_s"] * macs_per_shower[(best["model"], str(best["size"]))]
        rows.append({"artefact": path, "backend": best["backend"], "model": best["model"], "size": best["size"],
                     "batch_size": best["batch_size"], "showers_per_s": best["showers_per_s"],
                     "gmacs_per_s": macs / 1e9, "arithmetic": kind,
                     "peak_gmacs_per_s": None if peak is None else peak / 1e9,
                     "fraction_of_peak": None if peak is None else macs / peak,
                     **({"note": f"{kind} peak not measured"} if peak is None else {})})
    return rows
