"""Which ops of a reduced-precision artefact compute in INT8, BF16 or FP32, read from its graph."""

from __future__ import annotations

import numpy as np

from .artefacts import Artefact, openvino_inference_precision
from .quantization import QUANTIZABLE_ONNX_OPS
from .backends import INC_INT8, KERAS_BF16, TF_GRAPH_FP32

__all__ = ["op_precision_table", "int8_mac_share"]


def op_precision_table(artefact: Artefact) -> dict[str, dict[str, int]]:
    """{op type: {'int8': n, 'fp32': n}} of the compute ops in an artefact's graph: an op
    counts as INT8 when it computes on INT8 tensors (TensorFlow: a ``Quantized*`` kernel;
    ONNX: its input comes from a DequantizeLinear, i.e. a QDQ pair ORT fuses; LiteRT: its
    output is INT8; OpenVINO: the precision its compiled primitive runs in). FP16 storage (weights
    dequantized to FP32 at load) counts as FP32."""
    backend = artefact.backend
    table: dict[str, dict[str, int]] = {}

    def add(op: str, kind: str) -> None:
        entry = table.setdefault(op, {"int8": 0, "fp32": 0})
        entry[kind] = entry.get(kind, 0) + 1

    if backend in (TF_GRAPH_FP32, INC_INT8):
        import tensorflow as tf

        from .export import graph_op_counts

        g = tf.compat.v1.GraphDef()
        g.ParseFromString(artefact.model_file.read_bytes())
        for op, n in graph_op_counts(g).items():
            if op in ("QuantizeV2", "Dequantize", "Requantize", "Pack", "Shape", "StridedSlice", "Reshape"):
                continue
            kind = "int8" if op.startswith("Quantized") or op.startswith("_Quantized") else "fp32"
            base = op.replace("QuantizedConv2D", "Conv2D").replace("QuantizedMatMul", "MatMul") if kind == "int8" else op
            base = base.split("With")[0] if kind == "int8" else base
            for _ in range(n):
                add(base, kind)
    elif backend.startswith("onnx"):
        import onnx

        m = onnx.load(str(artefact.model_file))
        dq_outputs = {o for n in m.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
        for n in m.graph.node:
            if n.op_type in ("QuantizeLinear", "DequantizeLinear", "Shape", "Reshape", "Unsqueeze", "Concat", "Squeeze"):
                continue
            int8 = n.op_type in QUANTIZABLE_ONNX_OPS and n.input and n.input[0] in dq_outputs
            add(n.op_type, "int8" if int8 else "fp32")
    elif backend.startswith("tflite"):
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_path=str(artefact.model_file))
        dtype = {d["index"]: d["dtype"] for d in interp.get_tensor_details()}
        for op in interp._get_ops_details():  # noqa: SLF001 (the public API has no op list)
            name = op["op_name"]
            if name in ("QUANTIZE", "DEQUANTIZE", "RESHAPE", "SHAPE", "STRIDED_SLICE", "PACK"):
                continue
            outs = [dtype.get(i) for i in op["outputs"] if i >= 0]
            add(name, "int8" if any(d in (np.int8, np.uint8) for d in outs) else "fp32")
    elif backend.startswith("openvino"):  # what the compiled model executes, not what the file asks for
        from .openvino_artefacts import executed_precisions

        for row in executed_precisions(artefact.model_file, openvino_inference_precision(artefact.manifest)):
            add(row["type"], "int8" if row["precision"] in ("u8", "i8") else row["precision"].replace("f32", "fp32"))
    else:  # Keras: every layer computes at the policy's precision (BF16 keeps FP32 weights)
        kind = "bf16" if backend == KERAS_BF16 else "fp32"
        for layer in artefact.manifest.get("layers", []):
            add(layer, kind)
    return dict(sorted(table.items()))


def int8_mac_share(artefact: Artefact, costs: dict[str, float]) -> dict[str, object]:
    """The share of the generator's multiply-accumulates an INT8 artefact computes in INT8, given
    ``costs`` ({quantizable layer: share}, :func:`quantization.quantizable_layer_costs` for its
    backend): for OpenVINO the layers its compiled model executes in INT8 (and those asked for but
    not executed, ``not_executed``), otherwise every quantizable layer but the ``fp32_ops`` of its
    settings. Returns {'share', 'int8_layers', 'not_executed'}."""
    settings = artefact.manifest.get("settings", {})
    asked = [layer for layer in costs if layer not in set(settings.get("fp32_ops", []))]
    if artefact.backend.startswith("openvino"):
        from .openvino_artefacts import executed_precisions

        rows = executed_precisions(artefact.model_file, openvino_inference_precision(artefact.manifest))
        running = [r["layer"] for r in rows if r["precision"] in ("u8", "i8")]
        chosen_by_nncf = settings.get("method") == "nncf.quantize_with_accuracy_control"  # no layers asked for
        return {"share": sum(costs.get(layer, 0.0) for layer in running), "int8_layers": running,
                "not_executed": None if chosen_by_nncf else [layer for layer in asked if layer not in running]}
    return {"share": sum(costs[layer] for layer in asked), "int8_layers": asked, "not_executed": []}
