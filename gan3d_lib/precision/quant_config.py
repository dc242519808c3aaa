"""Settings of one INT8 artefact (:class:`QuantConfig`) and the calibration methods each INT8
backend offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from .backends import BACKENDS

__all__ = ["QuantConfig", "CALIBRATION_METHODS", "int8_dot_products_saturate"]

# Calibration (activation range) methods each INT8 backend offers, the default first.
CALIBRATION_METHODS = {name: b.calibration_methods for name, b in BACKENDS.items() if b.calibration_methods}


def int8_dot_products_saturate() -> bool:
    """Whether this CPU lacks VNNI (AVX-512 VNNI, AVX-VNNI, AMX), so that u8 x s8 dot products go
    through vpmaddubsw, whose 16-bit sums saturate: INT8 writers then quantize weights to 7 bits
    (ONNX Runtime's ``reduce_range``, NNCF's ``OverflowFix.ENABLE``), as OpenVINO's saturation
    notes advise. Measured on an AVX2-only AMD EPYC: the tiny test generator's OpenVINO INT8
    showers differ from FP32 by 0.46 of the largest cell with NNCF's default (first layer only),
    0.17 with every layer fixed."""
    from ..core.results import machine_info

    m = machine_info()
    return not (m["avx512_vnni"] or m["avx_vnni"] or m["amx"])


@dataclass(frozen=True)
class QuantConfig:
    """Settings of one INT8 artefact.

    ``fp32_ops``: Keras layer names (see :func:`quantizable_layers`) whose ops stay FP32;
    ``calibration``: activation-range method (:data:`CALIBRATION_METHODS`);
    ``per_channel``: per-output-channel weight scales; ``n_calibration``: latent vectors used
    for calibration (None: all given); ``bias_correction``: NNCF's fast bias correction
    (OpenVINO only; the other backends offer none); ``asymmetric_activations``: activation
    ranges with a zero point (OpenVINO: NNCF's ``MIXED`` preset; Neural Compressor:
    ``act_sym=False``; ONNX Runtime's uint8 activations always have one);
    ``energy_buckets``: primary-energy edges in GeV (e.g. 2, 20, 100, 250, 500): one INT8 model
    per bucket, each calibrated on latents of its own energies, the latent's energy (from its
    norm) picking the model at run time; empty: one model for all energies;
    ``float_precision``: what the layers left out of INT8 compute in, 'fp32' or 'bf16'
    (OpenVINO only: its inference precision hint, read back from the compiled model; BF16
    where the CPU has AVX-512 BF16 or AMX).
    """

    fp32_ops: tuple[str, ...] = ()
    calibration: str = "minmax"
    per_channel: bool = True
    n_calibration: int | None = None
    bias_correction: bool = True
    asymmetric_activations: bool = False
    energy_buckets: tuple[float, ...] = ()
    float_precision: str = "fp32"

    def to_dict(self) -> dict[str, Any]:
        return {"fp32_ops": list(self.fp32_ops), "calibration": self.calibration, "per_channel": self.per_channel,
                "n_calibration": self.n_calibration, "bias_correction": self.bias_correction,
                "asymmetric_activations": self.asymmetric_activations, "energy_buckets": list(self.energy_buckets),
                "float_precision": self.float_precision}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuantConfig:
        """The config of :meth:`to_dict` (or an artefact's ``settings``; unknown keys ignored)."""
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k in ("fp32_ops", "energy_buckets"):
            if k in known:
                known[k] = tuple(known[k])
        return cls(**known)

    def check(self, backend: str) -> None:
        methods = CALIBRATION_METHODS.get(backend, ("minmax",))
        if self.calibration not in methods:
            raise ValueError(f"{backend}: calibration {self.calibration!r} not offered; choose one of {methods}")
        offered = [name for name, b in BACKENDS.items() if b.asymmetric]
        if self.asymmetric_activations and backend not in offered:
            raise ValueError(f"{backend}: asymmetric_activations is offered by {' and '.join(offered)} only")
        if self.float_precision not in ("fp32", "bf16"):
            raise ValueError(f"float_precision must be 'fp32' or 'bf16', got {self.float_precision!r}")
        offered = [name for name, b in BACKENDS.items() if b.bf16_rest]
        if self.float_precision == "bf16" and backend not in offered:
            raise ValueError(f"{backend}: float_precision 'bf16' is offered by {' and '.join(offered)} only")
        edges = self.energy_buckets
        if edges and (len(edges) < 3 or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] <= 0):
            raise ValueError(f"energy_buckets must be >= 3 increasing positive edges in GeV, got {list(edges)}")
