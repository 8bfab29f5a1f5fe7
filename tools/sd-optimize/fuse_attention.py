#!/usr/bin/env python3
"""Fuse plain matmul/softmax attention in an ONNX graph into com.microsoft MultiHeadAttention nodes.

  python3 fuse_attention.py IN.onnx OUT.onnx [--no-pack] [--allow-unmatched] [--json report.json]

Matches the pattern that a TorchScript export of explicit attention gives (our sdscale and tiny models, opset 17):

    q = Reshape(Q, [b, -1, N, H]) -> Transpose(0,2,1,3) [-> Mul/Div by a scalar]
    k = Reshape(K, [b, -1, N, H]) -> Transpose(0,2,3,1)   (or Transpose(0,2,1,3) then Transpose(0,1,3,2))
    v = Reshape(V, [b, -1, N, H]) -> Transpose(0,2,1,3)
    o = MatMul(Softmax(MatMul(q, k) [* scale] [+ mask], axis=-1), v) -> Transpose(0,2,1,3) -> Reshape([b, -1, N*H])

with Q, K, V the [B, S, N*H] projections (batch and sequence dynamic; the reshape shapes may be computed from
Shape nodes). The scale (a product of every scalar Mul/Div on q, k and the scores) becomes the node's `scale`
attribute; an additive mask (2-D or 4-D, added after the scale) becomes its attention_bias input. With packing (the
default, as in ONNX Runtime's Stable Diffusion recipe) self-attention whose Q, K, V are bias-free MatMuls of one
input gets one MatMul with interleaved weights and packed QKV [B, S, N, 3, H]; cross-attention gets packed KV.

The model is loaded whole, external data included (3.4 GB for the fp32 SD 1.5 UNet: fine in the GPU host's
128 GB), and saved with one external data file `<out name>_data` when the source had external data or the result
is over 1.8 GB. Exits 2, naming each one, if a Softmax remains that the pattern did not match (unless
--allow-unmatched). Needs the `onnx` package only (and numpy, which it brings).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"
INT_TYPES = {TensorProto.INT8, TensorProto.INT16, TensorProto.INT32, TensorProto.INT64, TensorProto.UINT8,
             TensorProto.UINT16, TensorProto.UINT32, TensorProto.UINT64}


class _Dynamic:
    """A dimension that is known to exist but only at run time (batch, sequence)."""

    def __repr__(self):
        return "?"


DYN = _Dynamic()


def key(node):
    """A node's identity that survives protobuf wrapper objects: its first output (outputs are unique)."""
    return node.output[0] if len(node.output) and node.output[0] else "name:" + node.name


class NoMatch(Exception):
    """The subgraph around one Softmax is not the attention pattern; the message says why."""


class GraphIndex:
    """Producers, consumers, constants and (where shape inference knows them) static shapes of a graph."""

    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.refresh()
        self.shapes = infer_shapes_light(model)
        self._dims_memo = {}

    def refresh(self):
        self.producer = {o: n for n in self.graph.node for o in n.output if o}
        self.consumers = {}
        for n in self.graph.node:
            for i in node_inputs_deep(n):
                self.consumers.setdefault(i, []).append(n)
        self.initializers = {t.name: t for t in self.graph.initializer}
        self.outputs = {o.name for o in self.graph.output}
        self._dims_memo = {}

    def const(self, name):
        """numpy value of an initializer or Constant node output, else None."""
        if name in self.initializers:
            return numpy_helper.to_array(self.initializers[name])
        n = self.producer.get(name)
        if n is None or n.op_type != "Constant":
            return None
        a = n.attribute[0]
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name in ("value_float", "value_int"):
            return np.array(helper.get_attribute_value(a))
        if a.name in ("value_floats", "value_ints"):
            return np.array(list(helper.get_attribute_value(a)))
        return None

    def scalar(self, name):
        if name in self.initializers and int(np.prod(self.initializers[name].dims, dtype=np.int64)) != 1:
            return None
        v = self.const(name)
        if v is None or v.size != 1 or v.dtype.kind not in "fiu":
            return None
        return float(v.reshape(-1)[0])

    def dims(self, name, depth=0):
        """static shape as a list of int|None (None: dynamic), or None when the rank is unknown: onnx's shape
        inference where it got there, else a few local rules (projections, norms, elementwise, transpose,
        reshape, embedding gather) that carry the hidden size through what it lost track of."""
        if name in self.initializers:
            return list(self.initializers[name].dims)
        if name in self._dims_memo:
            return self._dims_memo[name]
        inferred = self.shapes.get(name)
        if inferred is not None and None not in inferred:
            return inferred
        d = self._dims_rule(name, depth) if depth < 60 else None
        if inferred is not None:  # shape inference knows the rank: fill in what the rules know
            d = [a if a is not None else (b if d is not None and len(d) == len(inferred) else None)
                 for a, b in zip(inferred, d if d is not None and len(d) == len(inferred) else inferred)]
        self._dims_memo[name] = d
        return d

    def _dims_rule(self, name, depth):
        n = self.producer.get(name)
        if n is None:
            for i in self.graph.input:
                if i.name == name and i.type.tensor_type.HasField("shape"):
                    return [x.dim_value if x.HasField("dim_value") else None for x in i.type.tensor_type.shape.dim]
            return None
        sub = lambda i: self.dims(n.input[i], depth + 1) if len(n.input) > i and n.input[i] else None  # noqa: E731
        op = n.op_type
        if op in ("Identity", "Cast", "Relu", "Sigmoid", "Tanh", "Erf", "Gelu", "FastGelu", "Softmax", "Neg",
                  "InstanceNormalization", "Dropout"):
            return sub(0)
        if op == "LayerNormalization":
            a, scale = sub(0), sub(1)
            if a is not None and scale is not None and len(scale) == 1 and a:
                return a[:-1] + scale
            return a
        if op == "MatMul":
            a, b = sub(0), sub(1)
            if a is None or b is None or len(a) < 2 or len(b) != 2:
                return None
            return a[:-1] + [b[-1]]
        if op in ("Add", "Sub", "Mul", "Div", "Where"):
            ds = [self.dims(i, depth + 1) for i in n.input]
            known = [d for d in ds if d is not None]
            if not known:
                return None
            rank = max(len(d) for d in known)
            out = []
            for k in range(rank):
                vals = [d[len(d) - rank + k] for d in known if len(d) - rank + k >= 0]
                static = [v for v in vals if v is not None and v > 1]
                out.append(max(static) if static else None if None in vals else 1)
            return out
        if op == "Transpose":
            a = sub(0)
            perm = [int(p) for p in helper.get_attribute_value(n.attribute[0])] if n.attribute else None
            if a is None or perm is None or len(perm) != len(a):
                return None
            return [a[p] for p in perm]
        if op == "Reshape":
            shape = self.value(n.input[1], depth + 1)
            if not isinstance(shape, list):
                return None
            a = sub(0)
            out = []
            for k, v in enumerate(shape):
                if v is DYN or v == -1:
                    out.append(None)
                elif v == 0:
                    out.append(a[k] if a is not None and k < len(a) else None)
                else:
                    out.append(int(v))
            return out
        if op == "Conv" and n.input[1] in self.initializers:
            w = list(self.initializers[n.input[1]].dims)
            a = sub(0)
            return [a[0] if a else None, w[0]] + [None] * (len(w) - 2)
        if op == "Resize":
            a = sub(0)
            return None if a is None else a[:2] + [None] * (len(a) - 2)
        if op == "Concat":
            ds = [self.dims(i, depth + 1) for i in n.input]
            if any(d is None for d in ds) or len({len(d) for d in ds}) != 1:
                return None
            axis = helper.get_attribute_value(n.attribute[0]) % len(ds[0])
            out = [None if any(d[k] is None for d in ds) else ds[0][k] for k in range(len(ds[0]))]
            out[axis] = None if any(d[axis] is None for d in ds) else sum(d[axis] for d in ds)
            return out
        if op == "Slice":  # same rank, sizes unknown unless shape inference had them
            a = sub(0)
            return None if a is None else [None] * len(a)
        if op == "Gather" and n.input[0] in self.initializers:
            idx = sub(1)
            return None if idx is None else idx + list(self.initializers[n.input[0]].dims)[1:]
        return None

    def value(self, name, depth=0):
        """Small shape-arithmetic evaluator: an int/float, a list of them (DYN for a run-time dimension), or None
        when unknown."""
        if depth > 40:
            return None
        c = self.const(name)
        if c is not None:
            if c.ndim == 0:
                return c.item()
            return c.tolist() if c.ndim == 1 else None
        n = self.producer.get(name)
        if n is None:
            return None
        op = n.op_type
        val = lambda i: self.value(n.input[i], depth + 1) if len(n.input) > i and n.input[i] else None  # noqa: E731
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if op == "Shape":
            d = self.dims(n.input[0], depth + 1)
            if d is None:
                return None
            d = [DYN if x is None else x for x in d]
            return d[attrs.get("start", 0):attrs.get("end", len(d)) if "end" in attrs else None]
        if op in ("Identity", "Cast"):
            v = val(0)
            if op == "Cast" and v is not None and attrs.get("to") in INT_TYPES:
                v = [x if x is DYN else int(x) for x in v] if isinstance(v, list) else v if v is DYN else int(v)
            return v
        if op == "Gather":
            data, idx = val(0), val(1)
            if not isinstance(data, list) or idx is None or idx is DYN or attrs.get("axis", 0) != 0:
                return None
            idx = idx if isinstance(idx, list) else [idx]
            if DYN in idx or any(not -len(data) <= int(i) < len(data) for i in idx):
                return None
            picked = [data[int(i)] for i in idx]
            return picked if isinstance(val(1), list) else picked[0]
        if op == "Unsqueeze":
            v = val(0)
            return None if v is None or isinstance(v, list) else [v]
        if op == "Squeeze":
            v = val(0)
            return v[0] if isinstance(v, list) and len(v) == 1 else None
        if op == "Concat":
            parts = [self.value(i, depth + 1) for i in n.input]
            if any(not isinstance(p, list) for p in parts):
                return None
            return [x for p in parts for x in p]
        if op in ("Mul", "Div", "Add", "Sub"):
            a, b = val(0), val(1)
            if a is None or b is None:
                return None
            return elementwise(op, a, b)
        if op == "Slice":
            data = val(0)
            starts, ends = val(1), val(2)
            axes, steps = val(3), val(4)
            if not isinstance(data, list) or not isinstance(starts, list) or not isinstance(ends, list):
                return None
            if (axes not in (None, [0], [-1])) or (steps not in (None, [1])) or DYN in starts + ends:
                return None
            return data[int(starts[0]):int(min(ends[0], len(data)))]
        return None


def elementwise(op, a, b):
    def one(x, y):
        if x is DYN or y is DYN:
            return DYN
        if op == "Mul":
            return x * y
        if op == "Add":
            return x + y
        if op == "Sub":
            return x - y
        if isinstance(x, int) and isinstance(y, int):
            return int(x / y) if y else None  # ONNX integer Div truncates
        return x / y if y else None

    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return None
        return [one(x, y) for x, y in zip(a, b)]
    if isinstance(a, list):
        return [one(x, b) for x in a]
    if isinstance(b, list):
        return [one(a, y) for y in b]
    return one(a, b)


def node_inputs_deep(node):
    """A node's inputs plus the outer names its subgraphs (If/Loop/Scan bodies) read."""
    names = [i for i in node.input if i]
    for a in node.attribute:
        graphs = [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs) if a.type == onnx.AttributeProto.GRAPHS else []
        for g in graphs:
            for sub in g.node:
                names.extend(node_inputs_deep(sub))
    return names


def infer_shapes_light(model):
    """Static shapes of every tensor onnx's shape inference can work out, on a copy of the graph without the
    weights' data (so a > 2 GB model works too): name -> [int|None, ...]."""
    g = model.graph
    light_inits = []
    for t in g.initializer:
        if np.prod(t.dims, dtype=np.int64) <= 64 and t.data_location != TensorProto.EXTERNAL:
            light_inits.append(t)
        else:
            light_inits.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    inputs = list(g.input) + [v for v in light_inits if isinstance(v, onnx.ValueInfoProto)
                              and v.name not in {i.name for i in g.input}]
    inits = [t for t in light_inits if isinstance(t, TensorProto)]
    light = helper.make_model(helper.make_graph(list(g.node), g.name or "g", inputs, list(g.output), initializer=inits),
                              opset_imports=list(model.opset_import))
    light.ir_version = model.ir_version
    shapes = {}
    try:
        inferred = onnx.shape_inference.infer_shapes(light, data_prop=True)
    except Exception as e:  # noqa: BLE001 - shape inference is a help, not a requirement
        print(f"[fuse_attention] shape inference failed ({type(e).__name__}: {str(e)[:200]}); matching without it",
              file=sys.stderr)
        return shapes
    for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = v.type.tensor_type
        if t.HasField("shape"):
            shapes[v.name] = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    return shapes


def compose(acc, perm):
    """acc: permutation applied after `perm`; returns the permutation of the pair relative to perm's input."""
    return [perm[i] for i in acc]


def trace_heads(ix, name, used):
    """From a [B, N, ., .] attention operand back to the Reshape that split the heads of a [B, S, N*H] tensor.
    Returns (source tensor, permutation after the reshape, scale, N, H)."""
    acc = [0, 1, 2, 3]
    scale = 1.0
    while True:
        n = ix.producer.get(name)
        if n is None:
            raise NoMatch(f"{name} is a graph input or initializer, not a head-split reshape")
        used.append(n)
        if n.op_type == "Transpose":
            perm = [int(p) for p in helper.get_attribute_value(n.attribute[0])] if n.attribute else None
            if perm is None or len(perm) != 4:
                raise NoMatch(f"{n.name}: transpose is not 4-D")
            acc = compose(acc, perm)
            name = n.input[0]
        elif n.op_type in ("Mul", "Div"):
            s1 = ix.scalar(n.input[1])
            s0 = ix.scalar(n.input[0]) if n.op_type == "Mul" else None
            if s1 is not None:
                scale = scale * s1 if n.op_type == "Mul" else scale / s1
                name = n.input[0]
            elif s0 is not None:
                scale *= s0
                name = n.input[1]
            else:
                raise NoMatch(f"{n.name}: {n.op_type} by a non-constant")
        elif n.op_type == "Reshape":
            shape = ix.value(n.input[1])
            if not isinstance(shape, list) or len(shape) != 4:
                raise NoMatch(f"{n.name}: head-split shape {shape} is not a known 4-element shape")
            src_dims = ix.dims(n.input[0])
            if src_dims is not None and len(src_dims) != 3:
                raise NoMatch(f"{n.name}: reshapes a rank-{len(src_dims)} tensor, not [B, S, hidden]")
            hidden = src_dims[2] if src_dims else None
            heads, head = shape[2], shape[3]
            if heads == -1 and isinstance(head, int) and head > 0 and hidden:
                heads = hidden // head
            if head == -1 and isinstance(heads, int) and heads > 0 and hidden:
                head = hidden // heads
            if not (isinstance(heads, int) and isinstance(head, int) and heads > 0 and head > 0):
                raise NoMatch(f"{n.name}: heads/head size not known ({shape}, hidden {hidden})")
            if hidden is not None and heads * head != hidden:
                raise NoMatch(f"{n.name}: {heads} heads x {head} != hidden {hidden}")
            if shape[:2].count(-1) > 1:
                raise NoMatch(f"{n.name}: head-split shape {shape} has two -1")
            return n.input[0], acc, scale, heads, head
        else:
            raise NoMatch(f"{n.name}: {n.op_type} between the projection and the attention MatMul")


def single_consumer(ix, name, op_type):
    users = ix.consumers.get(name, [])
    if len(users) != 1 or users[0].op_type != op_type or name in ix.outputs:
        raise NoMatch(f"{name} feeds {[u.op_type for u in users]}, expected one {op_type}")
    return users[0]


def match(ix, softmax):
    """Returns a description of the attention around `softmax` or raises NoMatch."""
    axis = helper.get_attribute_value(softmax.attribute[0]) if softmax.attribute else -1
    if axis not in (-1, 3):
        raise NoMatch(f"{softmax.name}: softmax axis {axis}")
    core = [softmax]
    # scores side: MatMul(q, k) [Mul/Div scalar]* [Add mask] -> Softmax
    name = softmax.input[0]
    scale, mask, scaled = 1.0, None, False
    while True:
        n = ix.producer.get(name)
        if n is None:
            raise NoMatch(f"{softmax.name}: scores come from a graph input")
        if n.op_type == "MatMul":
            qk = n
            break
        core.append(n)
        if n.op_type in ("Mul", "Div") and ix.scalar(n.input[1]) is not None:
            s = ix.scalar(n.input[1])
            scale = scale * s if n.op_type == "Mul" else scale / s
            scaled = True
            name = n.input[0]
        elif n.op_type == "Mul" and ix.scalar(n.input[0]) is not None:
            scale *= ix.scalar(n.input[0])
            scaled = True
            name = n.input[1]
        elif n.op_type == "Add" and mask is None and not scaled:
            a, b = n.input
            # the scores operand is the one a MatMul/Mul/Div chain produces; the other is the mask
            pa = ix.producer.get(a)
            if pa is not None and pa.op_type in ("MatMul", "Mul", "Div"):
                mask, name = b, a
            else:
                mask, name = a, b
        else:
            raise NoMatch(f"{softmax.name}: {n.op_type} {n.name} between the scores MatMul and the Softmax")
    core.append(qk)
    q_src, q_perm, q_scale, heads, head = trace_heads(ix, qk.input[0], core)
    k_src, k_perm, k_scale, k_heads, k_head = trace_heads(ix, qk.input[1], core)
    if q_perm != [0, 2, 1, 3]:
        raise NoMatch(f"{softmax.name}: query layout {q_perm}, expected [0, 2, 1, 3]")
    if k_perm != [0, 2, 3, 1]:
        raise NoMatch(f"{softmax.name}: key layout {k_perm}, expected [0, 2, 3, 1] (k transposed)")
    # output side: MatMul(P, v) -> Transpose(0,2,1,3) -> Reshape [B, S, N*H]
    pv = single_consumer(ix, softmax.output[0], "MatMul")
    if pv.input[0] != softmax.output[0]:
        raise NoMatch(f"{softmax.name}: probabilities are the right operand of {pv.name}")
    core.append(pv)
    v_src, v_perm, v_scale, v_heads, v_head = trace_heads(ix, pv.input[1], core)
    if v_perm != [0, 2, 1, 3] or v_scale != 1.0:
        raise NoMatch(f"{softmax.name}: value layout {v_perm} (scale {v_scale})")
    if (k_heads, k_head, v_heads, v_head) != (heads, head, heads, head):
        raise NoMatch(f"{softmax.name}: q/k/v heads differ ({heads}x{head}, {k_heads}x{k_head}, {v_heads}x{v_head})")
    tr = single_consumer(ix, pv.output[0], "Transpose")
    if [int(p) for p in helper.get_attribute_value(tr.attribute[0])] != [0, 2, 1, 3]:
        raise NoMatch(f"{tr.name}: output transpose is not (0, 2, 1, 3)")
    core.append(tr)
    out = single_consumer(ix, tr.output[0], "Reshape")
    oshape = ix.value(out.input[1])
    if not isinstance(oshape, list) or len(oshape) != 3 or oshape[2] not in (heads * head, -1) \
            or (oshape[2] == -1 and oshape[1] in (-1, DYN)):
        raise NoMatch(f"{out.name}: output shape {oshape} is not [B, S, {heads * head}]")
    core.append(out)
    # every intermediate result must stay inside the pattern (the final reshape's output is what we replace)
    inside = {key(n) for n in core}
    for n in core:
        if n is out:
            continue
        for o in n.output:
            if o in ix.outputs or any(key(u) not in inside for u in ix.consumers.get(o, [])):
                raise NoMatch(f"{n.name}: its output {o} is also used outside the attention")
    if mask is not None:
        mdims = ix.dims(mask)
        if mdims is None or len(mdims) not in (2, 4):
            raise NoMatch(f"{softmax.name}: mask {mask} has rank {None if mdims is None else len(mdims)}, not 2 or 4")
        if len(mdims) == 4 and mdims[1] not in (1, heads, None):
            raise NoMatch(f"{softmax.name}: mask heads dimension {mdims[1]}")
    return {"query": q_src, "key": k_src, "value": v_src, "heads": heads, "head": head, "output": out.output[0],
            "scale": scale * q_scale * k_scale, "mask": mask, "core": core, "name": softmax.name}


def projection_input(ix, name):
    """The tensor a linear projection (MatMul [+ bias Add]) reads, or the name itself."""
    n = ix.producer.get(name)
    if n is not None and n.op_type == "Add":
        other = [i for i in n.input if ix.const(i) is None]
        n = ix.producer.get(other[0]) if len(other) == 1 else None
    return n.input[0] if n is not None and n.op_type == "MatMul" else name


def unique(ix, base):
    names = {n.name for n in ix.graph.node} | set(ix.producer) | set(ix.initializers)
    i, name = 0, base
    while name in names:
        i += 1
        name = f"{base}_{i}"
    return name


def fuse(model, pack=True, log=print):
    """Fuses every matching attention in place; returns the report."""
    t0 = time.time()
    ix = GraphIndex(model)
    nodes_before = len(model.graph.node)
    softmaxes = [n for n in model.graph.node if n.op_type == "Softmax"]
    report = {"softmax": len(softmaxes), "fused": 0, "self": 0, "cross": 0, "with_mask": 0, "packed_qkv": 0,
              "packed_kv": 0, "unmatched": []}
    matches = []
    for s in softmaxes:
        try:
            matches.append(match(ix, s))
        except NoMatch as e:
            report["unmatched"].append(str(e))
    remove = set()
    new_nodes = {}  # key(final reshape) -> nodes replacing it
    for m in matches:
        name = unique(ix, m["name"].replace("/Softmax", "/MultiHeadAttention").replace("Softmax", "MultiHeadAttention")
                      if "Softmax" in m["name"] else "MultiHeadAttention")
        extra = []
        mask = ""
        if m["mask"] is not None:
            mask = m["mask"]
            if len(ix.dims(mask)) == 2:
                axes = unique(ix, name + "/bias_axes")
                model.graph.initializer.append(numpy_helper.from_array(np.array([0, 1], dtype=np.int64), axes))
                ix.initializers[axes] = model.graph.initializer[-1]
                mask4 = unique(ix, name + "/attention_bias")
                extra.append(helper.make_node("Unsqueeze", [m["mask"], axes], [mask4], name=mask4))
                ix.producer[mask4] = extra[-1]
                mask = mask4
            report["with_mask"] += 1
        inputs = [m["query"], m["key"], m["value"]] + (["", "", mask] if mask else [])
        mha = helper.make_node("MultiHeadAttention", inputs, [m["output"]], name=name, domain=MS_DOMAIN,
                               num_heads=m["heads"], scale=float(m["scale"]))
        ix.producer[name] = mha
        new_nodes[key(m["core"][-1])] = extra + [mha]
        remove.update(key(n) for n in m["core"])
        report["fused"] += 1
        report["self" if projection_input(ix, m["query"]) == projection_input(ix, m["key"]) else "cross"] += 1
    if matches:
        rebuilt = []
        for n in model.graph.node:
            if key(n) in new_nodes:
                rebuilt.extend(new_nodes[key(n)])
            elif key(n) not in remove:
                rebuilt.append(n)
        set_nodes(model.graph, rebuilt)
        if not any(o.domain == MS_DOMAIN for o in model.opset_import):
            model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
        remove_dead(model)
        if pack:
            ix.refresh()
            pack_projections(ix, report)
            remove_dead(model)
    report["nodes_before"] = nodes_before
    report["nodes_after"] = len(model.graph.node)
    report["seconds"] = round(time.time() - t0, 1)
    log(f"[fuse_attention] {report['fused']} of {report['softmax']} attention fused "
        f"({report['self']} self, {report['cross']} cross, {report['with_mask']} with mask, "
        f"{report['packed_qkv']} packed QKV, {report['packed_kv']} packed KV); "
        f"nodes {nodes_before} -> {report['nodes_after']}; {report['seconds']} s")
    for u in report["unmatched"][:8]:
        log(f"[fuse_attention] not fused: {u}")
    if len(report["unmatched"]) > 8:
        log(f"[fuse_attention] ... and {len(report['unmatched']) - 8} more not fused")
    return report


def projection(ix, name, mha):
    """The bias-free MatMul(x, W) with a 2-D initializer W producing `name`, used by `mha` only; else None."""
    n = ix.producer.get(name)
    if n is None or n.op_type != "MatMul" or n.input[1] not in ix.initializers:
        return None
    if len(ix.initializers[n.input[1]].dims) != 2 or name in ix.outputs:
        return None
    if any(key(u) != key(mha) for u in ix.consumers.get(name, [])):
        return None
    return n


def pack_projections(ix, report):
    """ONNX Runtime's packed layouts: one MatMul for Q, K, V of self-attention ([B, S, N, 3, H]) and for K, V
    of cross-attention ([B, S_kv, N, 2, H]), weights interleaved per head."""
    model = ix.model
    before = {}  # key(MultiHeadAttention) -> packed projection nodes to put before it
    for mha in [n for n in model.graph.node if n.op_type == "MultiHeadAttention" and n.domain == MS_DOMAIN]:
        heads = next(helper.get_attribute_value(a) for a in mha.attribute if a.name == "num_heads")
        q, k, v = (projection(ix, mha.input[i], mha) for i in range(3))
        if k is None or v is None or k.input[0] != v.input[0] or mha.input[1] == mha.input[2]:
            continue
        self_attn = q is not None and q.input[0] == k.input[0] and mha.input[0] != mha.input[1]
        parts = [q, k, v] if self_attn else [k, v]
        weights = [numpy_helper.to_array(ix.initializers[p.input[1]]) for p in parts]
        if len({w.shape for w in weights}) != 1 or weights[0].shape[1] % heads:
            continue
        c, out = weights[0].shape
        head = out // heads
        packed = np.stack([w.reshape(c, heads, head) for w in weights], axis=2).reshape(c, heads * len(parts) * head)
        base = unique(ix, mha.name + ("/qkv" if self_attn else "/kv"))
        w_name, shape_name, mm_out, packed_out = base + "_weight", base + "_shape", base + "_matmul", base + "_packed"
        model.graph.initializer.append(numpy_helper.from_array(packed.astype(weights[0].dtype), w_name))
        model.graph.initializer.append(numpy_helper.from_array(np.array([0, 0, heads, len(parts), head], np.int64),
                                                               shape_name))
        mm = helper.make_node("MatMul", [k.input[0], w_name], [mm_out], name=base + "/MatMul")
        rs = helper.make_node("Reshape", [mm_out, shape_name], [packed_out], name=base + "/Reshape")
        before[key(mha)] = [mm, rs]
        inputs = list(mha.input) + [""] * (3 - len(mha.input))
        if self_attn:
            inputs[0:3] = [packed_out, "", ""]
            report["packed_qkv"] += 1
        else:
            inputs[1:3] = [packed_out, ""]
            report["packed_kv"] += 1
        while inputs and inputs[-1] == "":
            inputs.pop()
        del mha.input[:]
        mha.input.extend(inputs)
    if before:
        set_nodes(model.graph, [m for n in model.graph.node for m in before.get(key(n), []) + [n]])
        ix.refresh()


def set_nodes(graph, nodes):
    """Replaces the graph's node list (detached copies first: some protobuf runtimes free removed elements)."""
    copies = []
    for n in nodes:
        c = onnx.NodeProto()
        c.CopyFrom(n)
        copies.append(c)
    del graph.node[:]
    graph.node.extend(copies)


def remove_dead(model):
    """Removes nodes none of whose outputs is used (iteratively), then unused initializers."""
    g = model.graph
    outputs = {o.name for o in g.output}
    while True:
        used = set(outputs)
        for n in g.node:
            used.update(node_inputs_deep(n))
        keep = [n for n in g.node if any(o in used for o in n.output if o)]
        if len(keep) == len(g.node):
            break
        set_nodes(g, keep)
    used = set(outputs)
    for n in g.node:
        used.update(node_inputs_deep(n))
    inits = [t for t in g.initializer if t.name in used]
    if len(inits) != len(g.initializer):
        del g.initializer[:]
        g.initializer.extend(inits)
    produced = {o for n in g.node for o in n.output}
    vi = [v for v in g.value_info if v.name in produced]
    del g.value_info[:]
    g.value_info.extend(vi)


def has_external_data(model):
    return any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)


def load(path):
    model = onnx.load(path, load_external_data=False)
    external = has_external_data(model)
    if external:
        from onnx.external_data_helper import load_external_data_for_model
        load_external_data_for_model(model, os.path.dirname(os.path.abspath(path)))
    return model, external


def save(model, path, external):
    """Saves `path`; external data in one file beside it (`<name>_data`) when asked or when over ~1.8 GB."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    size = sum(len(t.raw_data) for t in model.graph.initializer)
    data = os.path.basename(path) + "_data"
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(path)), data)):
        os.remove(os.path.join(os.path.dirname(os.path.abspath(path)), data))
    if external or size > 1_800_000_000:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                        size_threshold=1024)
    else:
        onnx.save_model(model, path)
    return external or size > 1_800_000_000


class Unmatched(Exception):
    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


def fuse_file(src, dst, pack=True, allow_unmatched=False, log=print):
    """Loads src, fuses, saves dst (even when some Softmax stayed unmatched), returns the report; raises Unmatched
    after saving when a Softmax was not fused and allow_unmatched is false."""
    t0 = time.time()
    model, external = load(src)
    report = fuse(model, pack=pack, log=log)
    report["external_data"] = save(model, dst, external)
    report["seconds_total"] = round(time.time() - t0, 1)
    if report["unmatched"] and not allow_unmatched:
        raise Unmatched(f"{len(report['unmatched'])} Softmax node(s) not fused in {src}: "
                        + "; ".join(report["unmatched"][:3]), report)
    return report


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--no-pack", action="store_true", help="keep separate Q, K, V projections")
    p.add_argument("--allow-unmatched", action="store_true", help="exit 0 even if some Softmax was not fused")
    p.add_argument("--json", help="write the report here")
    a = p.parse_args()
    status = 0
    try:
        report = fuse_file(a.src, a.dst, pack=not a.no_pack, allow_unmatched=a.allow_unmatched)
    except Unmatched as e:
        print(f"[fuse_attention] ERROR: {e}", file=sys.stderr)
        status = 2
        report = dict(e.report, error=str(e))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
    return status


if __name__ == "__main__":
    sys.exit(main())
