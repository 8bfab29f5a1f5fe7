#!/usr/bin/env python3
"""Optimise a Stable-Diffusion-layout ONNX model folder for ONNX Runtime's CUDA provider.

  python3 optimize_sd.py --src MODELS/sd15-fp32 --dst MODELS/sd15-opt-fp16 [--fp32] [--no-nhwc]
                         [--no-attention-fusion] [--no-pack] [--text-attention] [--vae-attention] [--json report.json]

UNet: first our attention fusion (fuse_attention.py, on the fp32 graph, in memory): every matmul/softmax attention
becomes one com.microsoft MultiHeadAttention, which runs as flash / memory-efficient attention on CUDA, with packed
QKV for self-attention and packed KV for cross-attention unless --no-pack. ONNX Runtime's own UNet attention fusion
does not recognise the 4-D reshape/transpose pattern of a TorchScript export, hence ours; a Softmax it cannot match
fails the run (exit status 1, after everything is written). Then ONNX Runtime's transformer optimizer with its Stable
Diffusion fusions (GroupNorm(+SiLU) and SkipGroupNorm; BiasSplitGelu; BiasAdd; NHWC convolutions; SkipLayerNorm),
then fp16 with the inputs and outputs fp16 too (our engine converts per input's element type).
Text encoder: the CLIP fusions (SkipLayerNorm, fast GELU, attention where ONNX Runtime matches it; --text-attention
runs ours first), fp16. The VAE decoder stays fp32 (fp16 costs quality there; it runs once per image) and is copied,
or with --vae-attention gets its mid-block attention (1 head of 512) fused. Everything else (tokenizer, scheduler,
model_index.json, diffusion_gallery.json) is copied. --no-attention-fusion gives the previous output (ONNX Runtime's
optimizer only). Needs the `onnx` and `onnxruntime` Python packages (CPU-only onnxruntime is enough: opt_level 0
does the fusions in Python and never creates a session). The fused operators and packed layouts are CUDA-only.
"""
import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuse_attention  # noqa: E402


class AttentionNotFused(Exception):
    """A UNet Softmax was not fused, or the optimizer lost fused nodes; the optimised model is still written."""


def fused_stats(model):
    try:
        return {k: v for k, v in model.get_fused_operator_statistics().items() if v}
    except Exception as e:  # older/newer optimizer API
        return {"error": str(e)}


def count_ops(model, op_type):
    return sum(1 for n in model.graph.node if n.op_type == op_type)


def fuse_attention_step(src, pack, key):
    """Loads src (external data included) and fuses its attention; returns (ModelProto, report)."""
    model, external = fuse_attention.load(src)
    attention = fuse_attention.fuse(model, pack=pack, log=lambda s: print(f"{key}: {s}", flush=True))
    return model, attention, external


def optimize(src, dst, model_type, fp16, nhwc, report, external, attention=None):
    """attention: None, or {"pack": bool, "strict": bool} to run our attention fusion first."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    t0 = time.time()
    entry = report[model_type] = {}
    source = src
    if attention is not None:
        # optimize_model takes a ModelProto with its weights loaded: the fp32 UNet is not written out in between
        source, entry["attention"], _ = fuse_attention_step(src, attention["pack"], model_type)
    options = FusionOptions(model_type)
    if model_type == "unet":
        # what the Stable Diffusion CUDA recipe enables; attributes that a given onnxruntime lacks are skipped
        for name, value in (("enable_nhwc_conv", nhwc), ("enable_group_norm", True), ("enable_skip_group_norm", True),
                            ("enable_bias_splitgelu", True), ("enable_packed_qkv", True), ("enable_packed_kv", True),
                            ("enable_bias_add", True), ("enable_bias_skip_layer_norm", True)):
            if hasattr(options, name):
                setattr(options, name, value)
    model = optimize_model(source, model_type=model_type, num_heads=0, hidden_size=0, opt_level=0,
                           optimization_options=options, use_gpu=True)
    del source
    stats = fused_stats(model)
    if fp16:
        model.convert_float_to_float16(keep_io_types=False, op_block_list=["RandomNormalLike", "Resize"])
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    model.save_model_to_file(dst, use_external_data_format=external, all_tensors_to_one_file=True)
    entry.update({"seconds": round(time.time() - t0, 1), "fused": stats, "fp16": fp16,
                  "nodes": len(model.model.graph.node),
                  "MultiHeadAttention": count_ops(model.model, "MultiHeadAttention"),
                  "Softmax": count_ops(model.model, "Softmax")})
    print(f"{model_type}: {entry}", flush=True)
    fused = entry.get("attention")
    if fused is not None:
        if entry["MultiHeadAttention"] < fused["fused"]:
            raise AttentionNotFused(f"{model_type}: {fused['fused']} MultiHeadAttention fused but "
                                    f"{entry['MultiHeadAttention']} left after ONNX Runtime's optimizer")
        if attention["strict"] and fused["unmatched"]:
            raise AttentionNotFused(f"{model_type}: {len(fused['unmatched'])} Softmax not fused: "
                                    + "; ".join(fused["unmatched"][:3]))


def fuse_only(src, dst, report, key, pack):
    """The VAE decoder: attention fused, nothing else; stays fp32."""
    t0 = time.time()
    model, attention, external = fuse_attention_step(src, pack, key)
    fuse_attention.save(model, dst, external)
    report[key] = {"attention": attention, "seconds": round(time.time() - t0, 1), "fp16": False}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--fp32", action="store_true", help="keep fp32 (fusions only)")
    p.add_argument("--no-nhwc", action="store_true", help="leave convolutions NCHW")
    p.add_argument("--no-attention-fusion", action="store_true",
                   help="skip our attention fusion (ONNX Runtime's optimizer only: the previous output)")
    p.add_argument("--no-pack", action="store_true", help="fused attention with separate Q, K, V projections")
    p.add_argument("--text-attention", action="store_true", help="run our attention fusion on the text encoder too")
    p.add_argument("--vae-attention", action="store_true", help="fuse the VAE decoder's attention (it stays fp32)")
    p.add_argument("--json")
    a = p.parse_args()
    fp16 = not a.fp32
    fuse = not a.no_attention_fusion
    shutil.rmtree(a.dst, ignore_errors=True)
    os.makedirs(a.dst)
    rewritten = {"unet", "text_encoder"} | ({"vae_decoder"} if fuse and a.vae_attention else set())
    for entry in os.listdir(a.src):
        s = os.path.join(a.src, entry)
        if entry in rewritten:
            continue
        (shutil.copytree if os.path.isdir(s) else shutil.copy)(s, os.path.join(a.dst, entry))
    report = {"src": a.src, "dst": a.dst, "attention_fusion": fuse, "packed": fuse and not a.no_pack}
    status = 0
    jobs = [("unet", "unet", True, {"pack": not a.no_pack, "strict": True} if fuse else None),
            ("text_encoder", "clip", False,
             {"pack": not a.no_pack, "strict": False} if fuse and a.text_attention else None)]
    for folder, kind, external, attention in jobs:
        try:
            optimize(os.path.join(a.src, folder, "model.onnx"), os.path.join(a.dst, folder, "model.onnx"),
                     kind, fp16, not a.no_nhwc, report, external, attention)
        except AttentionNotFused as e:  # the model is written; the run still fails
            status = 1
            report[kind]["error"] = str(e)
            print(f"{kind}: ERROR {e}", file=sys.stderr, flush=True)
        except Exception as e:  # keep going: an unoptimised copy still lets the rest be measured
            status = 1
            report[kind] = {"error": f"{type(e).__name__}: {str(e)[:600]}"}
            print(f"{kind} failed: {report[kind]['error']}", file=sys.stderr, flush=True)
            shutil.rmtree(os.path.join(a.dst, folder), ignore_errors=True)
            shutil.copytree(os.path.join(a.src, folder), os.path.join(a.dst, folder))
    if "vae_decoder" in rewritten:
        try:
            fuse_only(os.path.join(a.src, "vae_decoder", "model.onnx"),
                      os.path.join(a.dst, "vae_decoder", "model.onnx"), report, "vae_decoder", not a.no_pack)
        except Exception as e:  # noqa: BLE001 - the plain copy still runs
            status = 1
            report["vae_decoder"] = {"error": f"{type(e).__name__}: {str(e)[:600]}"}
            print(f"vae_decoder failed: {report['vae_decoder']['error']}", file=sys.stderr, flush=True)
            shutil.rmtree(os.path.join(a.dst, "vae_decoder"), ignore_errors=True)
            shutil.copytree(os.path.join(a.src, "vae_decoder"), os.path.join(a.dst, "vae_decoder"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)
    return status


if __name__ == "__main__":
    sys.exit(main())
