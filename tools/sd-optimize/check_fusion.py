#!/usr/bin/env python3
"""CPU check of fuse_attention.py: fuse a model folder's graphs and compare each with its original on random
inputs in a real ONNX Runtime (onnxruntime-node, CPU), reporting the max abs difference.

  python3 check_fusion.py --models DIR [--build] [--out DIR] [--json report.json] [--tol 1e-4]
  python3 check_fusion.py --unpack IN.onnx OUT.onnx     (only the CPU-runnable copy of a packed graph)

DIR is a diffusers-layout folder (unet/, text_encoder/, vae_decoder/ each with model.onnx). --build first makes
a small SD-1.5-shaped one there with ../../.sdscale/build_sd15.py (UNet base 32, VAE base 32, 2-layer CLIP; needs
torch: Debian's python3-torch is enough). Each graph is fused twice: without packing, and with ONNX Runtime's
packed QKV/KV layouts. The CPU kernel does not implement the packed layouts, so the packed graph is checked
through a copy whose packed projections are split back (Split + Reshape) into the separate Q, K, V inputs that
the packing interleaved: that proves the interleaved weights, while the packed kernels themselves run on CUDA only.
Needs node and `npm ci` in ort-check/ (onnxruntime-node, from the npm registry).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fuse_attention as FA  # noqa: E402

# symbolic dimensions for each graph's random inputs (a small UNet's latents are 16x16)
DIMS = {"unet": ["batch=2", "height=16", "width=16", "sequence=77"], "text_encoder": ["batch=2"],
        "vae_decoder": ["batch=1", "height=16", "width=16"]}


def unpack_for_cpu(model):
    """Rewrites packed QKV [B,S,N,3,H] / KV [B,S,N,2,H] MultiHeadAttention inputs into separate [B,S,N*H] ones."""
    g = model.graph
    ix = FA.GraphIndex(model)
    count = 0
    before = {}
    for mha in [n for n in g.node if n.op_type == "MultiHeadAttention"]:
        for slot in (0, 1):
            if len(mha.input) <= slot or not mha.input[slot]:
                continue
            rs = ix.producer.get(mha.input[slot])
            shape = ix.const(rs.input[1]) if rs is not None and rs.op_type == "Reshape" else None
            if shape is None or len(shape) != 5:
                continue
            heads, parts, head = int(shape[2]), int(shape[3]), int(shape[4])
            base = mha.name + f"/unpack{slot}"
            split_out = [f"{base}_part{i}" for i in range(parts)]
            sizes, flat = base + "_sizes", base + "_flat"
            g.initializer.append(numpy_helper.from_array(np.ones(parts, np.int64), sizes))
            g.initializer.append(numpy_helper.from_array(np.array([0, 0, heads * head], np.int64), flat))
            new = [helper.make_node("Split", [mha.input[slot], sizes], split_out, name=base + "/Split", axis=3)]
            names = []
            for i, part in enumerate(split_out):
                names.append(f"{base}_{i}")
                new.append(helper.make_node("Reshape", [part, flat], [names[-1]], name=f"{base}/Reshape{i}"))
            before[FA.key(mha)] = before.get(FA.key(mha), []) + new
            inputs = list(mha.input) + [""] * 3
            inputs[slot:slot + parts] = names
            while inputs and inputs[-1] == "":
                inputs.pop()
            del mha.input[:]
            mha.input.extend(inputs)
            count += 1
    FA.set_nodes(g, [m for n in g.node for m in before.get(FA.key(n), []) + [n]])
    return count


def compare(a, b, dims, tol, out_json):
    cmd = ["node", os.path.join(HERE, "ort-check", "compare.mjs"), a, b, "--tol", str(tol), "--json", out_json]
    for d in dims:
        cmd += ["--dim", d]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if not os.path.exists(out_json):
        raise RuntimeError(f"compare failed (rc {p.returncode}): {p.stderr[-1500:]}")
    with open(out_json) as f:
        return json.load(f)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--unpack":
        model, external = FA.load(sys.argv[2])
        print(f"unpacked {unpack_for_cpu(model)} packed attention input(s)")
        FA.save(model, sys.argv[3], external)
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", required=True)
    p.add_argument("--build", action="store_true", help="build a small SD-1.5-shaped folder into --models first")
    p.add_argument("--out", default="/tmp/fusion-check")
    p.add_argument("--json")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    if not os.path.exists(os.path.join(HERE, "ort-check", "node_modules", "onnxruntime-node")):
        sys.exit("run `npm ci` in tools/sd-optimize/ort-check first (onnxruntime-node)")
    if a.build:
        root = os.path.dirname(os.path.abspath(a.models.rstrip("/")))
        build = os.path.join(HERE, "..", "..", ".sdscale", "build_sd15.py")
        subprocess.run([sys.executable, build, "--root", root, "--unet-base", "32", "--vae-base", "32",
                        "--small-text"], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(a.out, exist_ok=True)
    report = {"models": a.models, "tol": a.tol, "graphs": {}}
    ok = True
    for graph, dims in DIMS.items():
        src = os.path.join(a.models, graph, "model.onnx")
        if not os.path.exists(src):
            continue
        r = report["graphs"][graph] = {}
        for variant, pack in (("separate", False), ("packed", True)):
            dst = os.path.join(a.out, graph, variant, "model.onnx")
            t0 = time.time()
            fused = FA.fuse_file(src, dst, pack=pack, allow_unmatched=graph != "unet", log=lambda s: None)
            entry = {k: fused[k] for k in ("softmax", "fused", "self", "cross", "with_mask", "packed_qkv", "packed_kv")}
            entry["fuse_seconds"] = round(time.time() - t0, 1)
            check = dst
            if pack and (fused["packed_qkv"] or fused["packed_kv"]):
                model, external = FA.load(dst)
                entry["unpacked_for_cpu"] = unpack_for_cpu(model)
                check = os.path.join(a.out, graph, "packed-cpu", "model.onnx")
                FA.save(model, check, external)
            cmp = compare(src, check, dims, a.tol, os.path.join(a.out, f"{graph}-{variant}.json"))
            entry.update(max_abs_diff=cmp["max_abs_diff"], max_abs_output=max(o["max_abs_a"] for o in cmp["outputs"].values()),
                         inputs=cmp["inputs"], cpu_ms_original=cmp["ms_a"], cpu_ms_fused=cmp["ms_b"], ok=cmp["ok"])
            ok = ok and cmp["ok"] and fused["fused"] == fused["softmax"]
            r[variant] = entry
            print(f"{graph:13s} {variant:8s} fused {fused['fused']}/{fused['softmax']} "
                  f"(packed qkv {fused['packed_qkv']}, kv {fused['packed_kv']}, mask {fused['with_mask']}): "
                  f"max |diff| {cmp['max_abs_diff']:.3g} (outputs up to {entry['max_abs_output']:.3g}); "
                  f"CPU {cmp['ms_a']} -> {cmp['ms_b']} ms", flush=True)
    report["ok"] = ok
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
    print("fusion check: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
