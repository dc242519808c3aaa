"""Settings of one INT8 artefact (:class:`QuantConfig`) and the calibration methods each INT8
backend offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["QuantConfig", "CALIBRATION_METHODS"]

# Calibration (activation range) methods each INT8 backend offers, the default first.
CALIBRATION_METHODS = {"onnx-int8": ("minmax", "entropy", "percentile"), "inc-int8": ("minmax", "kl"),
                       "openvino-int8": ("minmax", "mean_minmax")}


@dataclass(frozen=True)
class QuantConfig:
    """Settings of one INT8 artefact.

    ``fp32_ops``: Keras layer names (see :func:`quantizable_layers`) whose ops stay FP32;
    ``calibration``: activation-range method (:data:`CALIBRATION_METHODS`);
    ``per_channel``: per-output-channel weight scales; ``n_calibration``: latent vectors used
    for calibration (None: all given); ``bias_correction``: NNCF's fast bias correction
    (OpenVINO only; the other backends offer none).
    """

    fp32_ops: tuple[str, ...] = ()
    calibration: str = "minmax"
    per_channel: bool = True
    n_calibration: int | None = None
    bias_correction: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"fp32_ops": list(self.fp32_ops), "calibration": self.calibration, "per_channel": self.per_channel,
                "n_calibration": self.n_calibration, "bias_correction": self.bias_correction}

    def check(self, backend: str) -> None:
        methods = CALIBRATION_METHODS.get(backend, ("minmax",))
        if self.calibration not in methods:
            raise ValueError(f"{backend}: calibration {self.calibration!r} not offered; choose one of {methods}")
