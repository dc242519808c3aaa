"""Every precision behind one loader: the backends, export, quantization, OpenVINO, the physics gate.

Its public names are what the chapters import, each loaded from its module on first use.
"""

from ..core.lazy import storefront

_EXPORTS = {
    "artefact_validation": ("artefact_names", "summarise", "validate_artefacts"),
    "artefacts": ("Artefact", "load_artefact", "load_manifest"),
    "backends": ("BACKENDS", "BACKEND_NAMES", "backend_spec"),
    "gate": ("gate_reference", "precision_gate"),
    "op_precision": ("int8_mac_share", "op_precision_table"),
    "quant_config": ("QuantConfig",),
    "quantization": ("make_artefact", "make_missing_artefacts"),
}
_MODULES = ("artefact_validation", "artefacts", "backends", "export", "gate", "isa_check", "op_precision",
            "openvino_artefacts", "qat", "quant_config", "quantization")
__getattr__, __dir__, __all__ = storefront(__name__, _EXPORTS, _MODULES)
