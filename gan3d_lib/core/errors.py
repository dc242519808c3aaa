"""The library's own exceptions, raised in one layer and caught in others."""

from __future__ import annotations

__all__ = ["HardwareUnsupported"]


class HardwareUnsupported(RuntimeError):
    """The artefact's runtime has no kernel for this CPU (e.g. TensorFlow INT8 without AVX-512)."""
