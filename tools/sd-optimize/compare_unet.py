#!/usr/bin/env python3
"""Output difference of UNet variants against a reference UNet on fixed inputs (GPU host: onnxruntime with CUDA).

  python3 compare_unet.py --ref M/sd15-fp32/unet/model.onnx --cand fp16=M/sd15-fp16/unet/model.onnx \
      --cand opt=M/sd15-opt/unet/model.onnx [--batch 2] [--latent 64] [--provider cuda] [--json out.json]

Inputs (seed 0): sample ~ N(0, 1) [B, 4, L, L], timestep 999, encoder_hidden_states ~ N(0, 1) [B, 77, C]; each
model gets them in its own input element types (fp16 variants take fp16). The reference runs first (CUDA with TF32
off, so it is true fp32) and is released before the candidates load. Per candidate: max |diff|, max |reference|,
relative L2 error, and whether the outputs are finite. Exit 0 even when a candidate differs: the JSON tells.
"""
import argparse
import json
import sys
import time

import numpy as np

TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
         "tensor(int32)": np.int32, "tensor(double)": np.float64}


def session(path, provider, tf32):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if provider == "cuda":
        providers = [("CUDAExecutionProvider", {"device_id": 0, "use_tf32": 1 if tf32 else 0}), "CPUExecutionProvider"]
    else:
        providers = ["CPUExecutionProvider"]
    return ort.InferenceSession(path, options, providers=providers)


def feeds(sess, base):
    out = {}
    for i in sess.get_inputs():
        if i.name not in base:
            raise SystemExit(f"{i.name}: no fixed input for it (have {sorted(base)})")
        out[i.name] = base[i.name].astype(TYPES[i.type])
    return out


def run(path, provider, tf32, base):
    t0 = time.time()
    sess = session(path, provider, tf32)
    load = time.time() - t0
    f = feeds(sess, base)
    sess.run(None, f)  # warm-up (cuDNN algorithm choice)
    t1 = time.time()
    y = sess.run(None, f)[0].astype(np.float32)
    return y, round(load, 1), round((time.time() - t1) * 1000, 2)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ref", required=True)
    p.add_argument("--cand", action="append", default=[], help="NAME=PATH, repeatable")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--context", type=int, default=768)
    p.add_argument("--provider", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--json")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    base = {"sample": rng.standard_normal((a.batch, 4, a.latent, a.latent)),
            "timestep": np.full((a.batch,), 999.0),
            "encoder_hidden_states": rng.standard_normal((a.batch, 77, a.context))}
    report = {"ref": a.ref, "batch": a.batch, "latent": a.latent, "provider": a.provider, "candidates": {}}
    ref, load, ms = run(a.ref, a.provider, False, base)
    report.update(ref_load_s=load, ref_ms=ms, ref_max_abs=float(np.abs(ref).max()), ref_std=float(ref.std()))
    print(f"reference {a.ref}: max |y| {report['ref_max_abs']:.4g}, std {report['ref_std']:.4g}, {ms} ms", flush=True)
    for spec in a.cand:
        name, path = spec.split("=", 1)
        try:
            # fp32 candidates (e.g. attn_fp32: the fusion alone) without TF32, like the reference, so the difference is
            # the graph's; the others as the engine runs them (ONNX Runtime's CUDA default, TF32 on)
            y, load, ms = run(path, a.provider, not name.endswith("fp32"), base)
            d = np.abs(y - ref)
            r = {"path": path, "max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean()),
                 "rel_l2": float(np.linalg.norm(y - ref) / np.linalg.norm(ref)), "finite": bool(np.isfinite(y).all()),
                 "load_s": load, "ms": ms}
        except Exception as e:  # noqa: BLE001 - one broken candidate must not hide the others
            r = {"path": path, "error": f"{type(e).__name__}: {str(e)[:600]}"}
        report["candidates"][name] = r
        print(f"{name}: {r}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
