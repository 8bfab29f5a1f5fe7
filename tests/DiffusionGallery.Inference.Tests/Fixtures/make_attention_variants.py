"""Writes small attention graphs in the layouts other exporters give (constant reshape shapes, the scale on q and k or
as a Div on the scores, k transposed in two steps, q/k/v biases, a 4-D mask, cross-attention) and their fusions by
tools/sd-optimize/fuse_attention.py, for the C# tests to run side by side in ONNX Runtime.

    python3 make_attention_variants.py <repository root> <target folder>

Per variant NAME: NAME.onnx (plain), NAME.separate.onnx (fused, separate Q/K/V) and NAME.packed.onnx (fused with
packed QKV/KV, then split back by check_fusion.unpack_for_cpu so the CPU kernel runs it); manifest.json lists the
inputs' shapes and what each fusion reported.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

root, target = sys.argv[1:3]
sys.path.insert(0, os.path.join(root, "tools", "sd-optimize"))
import check_fusion  # noqa: E402
import fuse_attention  # noqa: E402

C, N, H, CTX = 32, 4, 8, 16
rng = np.random.default_rng(3)


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, value, dtype=np.float32):
        n = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), n))
        return n

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def linear(self, x, cin, bias=False):
        y = self.op("MatMul", [x, self.const(rng.standard_normal((cin, C)) * 0.3)])
        return self.op("Add", [y, self.const(rng.standard_normal(C) * 0.1)]) if bias else y

    def heads(self, t, shape_const):
        """Reshape to [B, S, N, H] with a constant shape, or one computed from Shape like the TorchScript exporter."""
        if shape_const:
            return self.op("Reshape", [t, self.const([0, -1, N, H], np.int64)])
        b = self.op("Unsqueeze", [self.op("Gather", [self.op("Shape", [t]), self.const(0, np.int64)], axis=0),
                                  self.const([0], np.int64)])
        d = self.op("Div", [self.op("Gather", [self.op("Shape", [t]), self.const(2, np.int64)], axis=0),
                            self.const(N, np.int64)])
        shape = self.op("Concat", [b, self.const([-1], np.int64), self.const([N], np.int64),
                                   self.op("Unsqueeze", [d, self.const([0], np.int64)])], axis=0)
        return self.op("Reshape", [t, shape])


def attention(b, x, ctx, cin_kv, *, shape_const, scale_where, k_two_steps, bias, mask, mask_under_scale=False):
    q, k, v = b.linear(x, C, bias), b.linear(ctx, cin_kv, bias), b.linear(ctx, cin_kv, bias)
    q = b.op("Transpose", [b.heads(q, shape_const)], perm=[0, 2, 1, 3])
    k = b.heads(k, shape_const)
    k = (b.op("Transpose", [b.op("Transpose", [k], perm=[0, 2, 1, 3])], perm=[0, 1, 3, 2]) if k_two_steps
         else b.op("Transpose", [k], perm=[0, 2, 3, 1]))
    v = b.op("Transpose", [b.heads(v, shape_const)], perm=[0, 2, 1, 3])
    if scale_where == "q_and_k":
        q = b.op("Mul", [b.const(H ** -0.25), q])
        k = b.op("Mul", [k, b.const(H ** -0.25)])
    s = b.op("MatMul", [q, k])
    if mask_under_scale:
        s = b.op("Mul", [b.op("Add", [s, mask]), b.const(H ** -0.5)])
    else:
        if scale_where == "scores_div":
            s = b.op("Div", [s, b.const(H ** 0.5)])
        if mask is not None:
            s = b.op("Add", [s, mask])
    o = b.op("Transpose", [b.op("MatMul", [b.op("Softmax", [s], axis=-1), v])], perm=[0, 2, 1, 3])
    return b.op("Reshape", [o, b.const([0, -1, C], np.int64)])


VARIANTS = {
    # name: (seq is static, cross, kwargs)
    "constant_shapes_scores_div_two_transposes": (False, False, dict(shape_const=True, scale_where="scores_div",
                                                                     k_two_steps=True, bias=False, mask=None)),
    "computed_shapes_scale_on_q_and_k_cross": (False, True, dict(shape_const=False, scale_where="q_and_k",
                                                                 k_two_steps=False, bias=False, mask=None)),
    "biases_and_4d_mask": (True, False, dict(shape_const=False, scale_where="scores_div", k_two_steps=False,
                                             bias=True, mask="4d")),
    "mask_under_the_scale_is_not_fused": (True, False, dict(shape_const=True, scale_where="none", k_two_steps=False,
                                                            bias=False, mask="4d", mask_under_scale=True)),
}


def build(name, static_seq, cross, kwargs):
    b = Builder()
    seq = 10 if static_seq else "seq"
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", seq, C])]
    ctx, cin = "x", C
    if cross:
        inputs.append(helper.make_tensor_value_info("ctx", TensorProto.FLOAT, ["batch", "ctx_seq", CTX]))
        ctx, cin = "ctx", CTX
    if kwargs.get("mask") == "4d":
        kwargs = dict(kwargs, mask=b.const(np.triu(np.full((1, 1, 10, 10), -1e4), 1)))
    y = attention(b, "x", ctx, cin, **kwargs)
    b.nodes.append(helper.make_node("Identity", [y], ["y"], name="out"))
    graph = helper.make_graph(b.nodes, name, inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", seq, C])],
                              initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, {i.name: [2 if d.dim_param == "batch" else 7 if d.dim_param == "ctx_seq" else 10 if d.dim_param else
                            d.dim_value for d in i.type.tensor_type.shape.dim] for i in inputs}


def main():
    os.makedirs(target, exist_ok=True)
    manifest = {}
    for name, (static_seq, cross, kwargs) in VARIANTS.items():
        model, shapes = build(name, static_seq, cross, kwargs)
        plain = os.path.join(target, f"{name}.onnx")
        onnx.save(model, plain)
        entry = {"inputs": shapes}
        for variant, pack in (("separate", False), ("packed", True)):
            fused = onnx.load(plain)
            report = fuse_attention.fuse(fused, pack=pack, log=lambda s: None)
            check_fusion.unpack_for_cpu(fused)
            onnx.save(fused, os.path.join(target, f"{name}.{variant}.onnx"))
            entry[variant] = {k: report[k] for k in ("softmax", "fused", "packed_qkv", "packed_kv", "with_mask")}
            entry[variant]["unmatched"] = report["unmatched"]
        manifest[name] = entry
    with open(os.path.join(target, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
