"""Every precision behind one loader: the backends, export, quantization, OpenVINO, the physics gate.

Modules: ``artefact_validation``, ``artefacts``, ``export``, ``gate``, ``isa_check``, ``op_precision``,
``openvino_artefacts``, ``quant_config``, ``quantization``.
"""
