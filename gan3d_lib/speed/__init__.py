"""Timing: the stream runner, throughput, GEMM peaks, rooflines, op profiles, Dask generation, the INT8 search.

Modules: ``bench``, ``gemm_peaks``, ``generation``, ``int8_search``, ``profiles``, ``roofline``, ``throughput``.
"""
