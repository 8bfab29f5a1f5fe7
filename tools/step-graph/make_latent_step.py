#!/usr/bin/env python3
"""Writes the latent step graphs the engine runs on the device between UNet calls (Inference:LatentsOnDevice).

One step for every UNet row at once, for samplers whose update is linear in the latents (DPM++ 2M, Euler):
  g  = u + s·(c − u)                  CFG over the row's uncond / cond UNet outputs (gathered by row index), in float
  D  = c_skip·x + c_out·g             the denoised prediction, in double, rounded to float
  x' = b_x·x + b_d·D + b_p·P          the sampler's update (P: the row's previous denoised), in double, rounded to float
  sample' = x'·in_scale'              the next UNet input, in float, cast to the UNet's sample type
with per-row coefficients (coef, float64 [R, 8]: s, c_skip, c_out, b_x, b_d, b_p, in_scale', unused) computed on the
host by the samplers. Both rows of a CFG pair compute the same values, so the latents stay duplicated per pair.
  /usr/bin/python3 tools/step-graph/make_latent_step.py     (needs the onnx package; writes into the engine's sources)
"""
import os
import onnx
from onnx import TensorProto as T, helper as h

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "..", "src", "DiffusionGallery.Inference", "Onnx", "Graphs")


def build(unet_type: int, name: str) -> onnx.ModelProto:
    rows = ["R", "C", "H", "W"]
    inputs = [
        h.make_tensor_value_info("model_out", unet_type, rows),
        h.make_tensor_value_info("x", T.FLOAT, rows),
        h.make_tensor_value_info("prev", T.FLOAT, rows),
        h.make_tensor_value_info("uncond_row", T.INT64, ["R"]),
        h.make_tensor_value_info("cond_row", T.INT64, ["R"]),
        h.make_tensor_value_info("coef", T.DOUBLE, ["R", 8]),
    ]
    outputs = [
        h.make_tensor_value_info("x_next", T.FLOAT, rows),
        h.make_tensor_value_info("denoised", T.FLOAT, rows),
        h.make_tensor_value_info("sample", unet_type, rows),
    ]
    cols = ["s", "c_skip", "c_out", "b_x", "b_d", "b_p", "in_next", "unused"]
    n = [
        h.make_node("Constant", [], ["axes23"], value=h.make_tensor("axes23v", T.INT64, [2], [2, 3])),
        h.make_node("Split", ["coef"], [f"{c}_2d" for c in cols], axis=1),
    ]
    n += [h.make_node("Unsqueeze", [f"{c}_2d", "axes23"], [f"{c}_d"]) for c in cols[:7]]
    n += [h.make_node("Cast", [f"{c}_d"], [f"{c}_f"], to=T.FLOAT) for c in ("s", "in_next")]
    n += [
        h.make_node("Cast", ["model_out"], ["mo"], to=T.FLOAT),
        h.make_node("Gather", ["mo", "uncond_row"], ["u"], axis=0),
        h.make_node("Gather", ["mo", "cond_row"], ["c"], axis=0),
        h.make_node("Sub", ["c", "u"], ["c_minus_u"]),
        h.make_node("Mul", ["s_f", "c_minus_u"], ["s_diff"]),
        h.make_node("Add", ["u", "s_diff"], ["g"]),
        h.make_node("Cast", ["g"], ["g_d"], to=T.DOUBLE),
        h.make_node("Cast", ["x"], ["x_d"], to=T.DOUBLE),
        h.make_node("Cast", ["prev"], ["p_d"], to=T.DOUBLE),
        h.make_node("Mul", ["c_skip_d", "x_d"], ["skip"]),
        h.make_node("Mul", ["c_out_d", "g_d"], ["out"]),
        h.make_node("Add", ["skip", "out"], ["den_d"]),
        h.make_node("Cast", ["den_d"], ["denoised"], to=T.FLOAT),
        h.make_node("Cast", ["denoised"], ["den_r"], to=T.DOUBLE),
        h.make_node("Mul", ["b_x_d", "x_d"], ["tx"]),
        h.make_node("Mul", ["b_d_d", "den_r"], ["td"]),
        h.make_node("Mul", ["b_p_d", "p_d"], ["tp"]),
        h.make_node("Add", ["tx", "td"], ["txd"]),
        h.make_node("Add", ["txd", "tp"], ["xn_d"]),
        h.make_node("Cast", ["xn_d"], ["x_next"], to=T.FLOAT),
        h.make_node("Mul", ["x_next", "in_next_f"], ["sample_f"]),
        h.make_node("Cast", ["sample_f"], ["sample"], to=unet_type),
    ]
    graph = h.make_graph(n, name, inputs, outputs)
    model = h.make_model(graph, producer_name="DiffusionGallery tools/step-graph", opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


if __name__ == "__main__":
    os.makedirs(TARGET, exist_ok=True)
    for unet_type, suffix in ((T.FLOAT, "fp32"), (T.FLOAT16, "fp16")):
        path = os.path.join(TARGET, f"latent_step_{suffix}.onnx")
        onnx.save(build(unet_type, f"latent_step_{suffix}"), path)
        print(path, os.path.getsize(path), "bytes")
