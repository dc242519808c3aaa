"""What the chapters print and draw: the book runner, presets, the study's claims, chapter rows and sentences, plotting.

Modules: ``claims``, ``precisions``, ``presets``, ``runner``, ``speed_text``, ``speedups``, ``verdicts``, ``plotting``.
"""
