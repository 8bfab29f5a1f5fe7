"""Writes a copy of a diffusers ONNX model folder whose graphs use other I/O dtypes and ranks than float32,
by wrapping each original graph in Cast (and Unsqueeze) nodes. Used by the C# tests to prove that fp16
tensors, int64 input ids and int64 or scalar timesteps are read from the graphs' metadata and handled.

    python3 make_variant_model.py <source model folder> <target folder> fp16-int64|scalar-timestep
"""
import shutil
import sys

import onnx
from onnx import TensorProto, helper


def wrap(path, inputs, outputs, scalar=()):
    """inputs/outputs: name -> new element type; names in scalar become rank-0 inputs (unsqueezed to [1])."""
    model = onnx.load(path)
    graph = model.graph
    nodes = []
    for graph_input in graph.input:
        name = graph_input.name
        if name not in inputs and name not in scalar:
            continue
        inner = name + "__inner"
        for node in graph.node:
            node.input[:] = [inner if i == name else i for i in node.input]
        tensor = graph_input.type.tensor_type
        original = tensor.elem_type
        source = name
        if name in scalar:
            tensor.shape.ClearField("dim")
            axes = name + "__axes"
            nodes.append(helper.make_node("Constant", [], [axes], value=helper.make_tensor(axes, TensorProto.INT64, [1], [0])))
            nodes.append(helper.make_node("Unsqueeze", [source, axes], [name + "__unsqueezed"]))
            source = name + "__unsqueezed"
        if name in inputs:
            tensor.elem_type = inputs[name]
            nodes.append(helper.make_node("Cast", [source], [inner], to=original))
        else:
            nodes.append(helper.make_node("Identity", [source], [inner]))
    tail = []
    for graph_output in graph.output:
        name = graph_output.name
        if name not in outputs:
            continue
        inner = name + "__inner"
        for node in graph.node:
            node.output[:] = [inner if o == name else o for o in node.output]
            node.input[:] = [inner if i == name else i for i in node.input]
        graph_output.type.tensor_type.elem_type = outputs[name]
        tail.append(helper.make_node("Cast", [inner], [name], to=outputs[name]))
    existing = list(graph.node)
    graph.ClearField("node")
    graph.node.extend(nodes + existing + tail)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    source, target, variant = sys.argv[1:4]
    shutil.copytree(source, target)
    half, i64 = TensorProto.FLOAT16, TensorProto.INT64
    if variant == "fp16-int64":
        wrap(f"{target}/text_encoder/model.onnx", {"input_ids": i64}, {"last_hidden_state": half})
        wrap(f"{target}/unet/model.onnx", {"sample": half, "timestep": i64, "encoder_hidden_states": half}, {"out_sample": half})
        wrap(f"{target}/vae_decoder/model.onnx", {"latent_sample": half}, {"sample": half})
        wrap(f"{target}/vae_encoder/model.onnx", {"sample": half}, {"latent_sample": half})
    elif variant == "scalar-timestep":
        wrap(f"{target}/unet/model.onnx", {}, {}, scalar=("timestep",))
    else:
        raise SystemExit(f"unknown variant {variant}")


if __name__ == "__main__":
    main()
