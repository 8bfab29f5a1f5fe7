#!/usr/bin/env python3
"""Optimise a Stable-Diffusion-layout ONNX model folder for ONNX Runtime's CUDA provider.

  python3 optimize_sd.py --src MODELS/sd15-fp32 --dst MODELS/sd15-opt-fp16 [--fp32] [--no-nhwc] [--json report.json]

UNet: ONNX Runtime's transformer optimizer with its Stable Diffusion fusions (fused multi-head attention, which runs
as flash / memory-efficient attention on CUDA; GroupNorm(+SiLU) and SkipGroupNorm; BiasSplitGelu; BiasAdd;
NHWC convolutions; packed QKV/KV), then fp16 with the inputs and outputs fp16 too (our engine converts per input's
element type). Text encoder: the CLIP fusions (attention, SkipLayerNorm, fast GELU), fp16. The VAE decoder stays
fp32 (fp16 costs quality there; it runs once per image). Everything else (tokenizer, scheduler, model_index.json,
diffusion_gallery.json) is copied. Needs the `onnx` and `onnxruntime` Python packages (CPU-only onnxruntime is enough:
opt_level 0 does the fusions in Python and never creates a session). The fused operators are CUDA-only.
"""
import argparse
import json
import os
import shutil
import sys
import time


def fused_stats(model):
    try:
        return {k: v for k, v in model.get_fused_operator_statistics().items() if v}
    except Exception as e:  # older/newer optimizer API
        return {"error": str(e)}


def optimize(src, dst, model_type, fp16, nhwc, report, external):
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    t0 = time.time()
    options = FusionOptions(model_type)
    if model_type == "unet":
        # what the Stable Diffusion CUDA recipe enables; attributes that a given onnxruntime lacks are skipped
        for name, value in (("enable_nhwc_conv", nhwc), ("enable_group_norm", True), ("enable_skip_group_norm", True),
                            ("enable_bias_splitgelu", True), ("enable_packed_qkv", True), ("enable_packed_kv", True),
                            ("enable_bias_add", True), ("enable_bias_skip_layer_norm", True)):
            if hasattr(options, name):
                setattr(options, name, value)
    model = optimize_model(src, model_type=model_type, num_heads=0, hidden_size=0, opt_level=0,
                           optimization_options=options, use_gpu=True)
    stats = fused_stats(model)
    if fp16:
        model.convert_float_to_float16(keep_io_types=False, op_block_list=["RandomNormalLike", "Resize"])
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    model.save_model_to_file(dst, use_external_data_format=external, all_tensors_to_one_file=True)
    report[model_type] = {"seconds": round(time.time() - t0, 1), "fused": stats, "fp16": fp16,
                          "nodes": len(model.model.graph.node)}
    print(f"{model_type}: {report[model_type]}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--fp32", action="store_true", help="keep fp32 (fusions only)")
    p.add_argument("--no-nhwc", action="store_true", help="leave convolutions NCHW")
    p.add_argument("--json")
    a = p.parse_args()
    fp16 = not a.fp32
    shutil.rmtree(a.dst, ignore_errors=True)
    os.makedirs(a.dst)
    for entry in os.listdir(a.src):
        s = os.path.join(a.src, entry)
        if entry in ("unet", "text_encoder"):
            continue
        (shutil.copytree if os.path.isdir(s) else shutil.copy)(s, os.path.join(a.dst, entry))
    report = {"src": a.src, "dst": a.dst}
    status = 0
    for folder, kind, external in (("unet", "unet", True), ("text_encoder", "clip", False)):
        try:
            optimize(os.path.join(a.src, folder, "model.onnx"), os.path.join(a.dst, folder, "model.onnx"),
                     kind, fp16, not a.no_nhwc, report, external)
        except Exception as e:  # keep going: an unoptimised copy still lets the rest be measured
            status = 1
            report[kind] = {"error": f"{type(e).__name__}: {str(e)[:600]}"}
            print(f"{kind} failed: {report[kind]['error']}", file=sys.stderr, flush=True)
            shutil.rmtree(os.path.join(a.dst, folder), ignore_errors=True)
            shutil.copytree(os.path.join(a.src, folder), os.path.join(a.dst, folder))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
    return status


if __name__ == "__main__":
    sys.exit(main())
