"""Timing: the stream runner, throughput, GEMM peaks, rooflines, op profiles, Dask generation, the INT8 search.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "bench": ("parse_int_list", "run_stream_configs", "run_streams", "stream_configs"),
    "gemm_peaks": ("measured_peaks",),
    "profiles": ("op_profile", "profile_table"),
    "rooflines": ("peak_macs_per_s", "roofline"),
    "throughput": ("dask_generation_throughput", "mc_throughput"),
}
_MODULES = ("bench", "gemm_peaks", "generation", "int8_search", "profiles", "rooflines", "throughput")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
