"""ONNX export (opset 17, SD tensor names, dynamic batch and size) plus the files around the graphs.

Python here has no onnxruntime, so the PyTorch-vs-ONNX comparison (max abs error < 1e-4) is written as a
check file of random inputs and PyTorch outputs (export_check.json) that the C# test suite runs through
ONNX Runtime; onnx.checker validates each graph here.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import onnx
import torch

import shapes_world
from models import ExportedTextEncoder, ExportedVaeEncoder, count

OPSET = 17
# DPM++ 2M with Karras sigmas: the tiny model keeps shape colours far better with them than with the uniform
# sigmas (docs/model-card.md, "Prompt adherence")
RECOMMENDED = {"sampler": "dpmpp_2m", "karras": True, "steps": 25, "guidance_scale": 7.0}
EXAMPLE_PROMPTS = [
    "a red circle on a blue background",
    "a large yellow star in the top left on a black background",
    "a small white heart at the bottom right over a sunset gradient",
    "a green triangle on the left and an orange ring on the right on a white background",
    "a blue square in the centre under a blue sky above green grass",
    "a purple ring at the top on a gradient from blue to white",
    "two pink hexagons on a gray background",
    "a cyan diamond above a brown cross on a white background",
    "three small orange moons on a purple background",
]


def _export(module, args, path: Path, inputs, outputs, axes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # PyTorch >= 2.9 defaults to the dynamo exporter; the TorchScript one keeps these graphs and names as they are
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True, **legacy)
    onnx.checker.check_model(onnx.load(str(path)))


def _tensor(t: torch.Tensor) -> dict:
    a = t.detach().cpu().numpy()
    dtype = {np.float32: "float32", np.int32: "int32"}[a.dtype.type]
    vals = a.reshape(-1).tolist() if dtype == "int32" else [float(f"{v:.8g}") for v in a.reshape(-1)]
    return {"shape": list(a.shape), "dtype": dtype, "values": vals}


@torch.no_grad()
def fit_preview(enc, images: np.ndarray, scaling: float) -> dict:
    """Least-squares latent(UNet space)->RGB factors: rgb[-1,1] of the 8x8 block mean = latent . W + b."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    z = enc(x)[0] * scaling
    target = torch.nn.functional.avg_pool2d(x, 8)
    A = z.permute(0, 2, 3, 1).reshape(-1, 4).numpy().astype(np.float64)
    Y = target.permute(0, 2, 3, 1).reshape(-1, 3).numpy().astype(np.float64)
    A1 = np.concatenate([A, np.ones((len(A), 1))], 1)
    W, *_ = np.linalg.lstsq(A1, Y, rcond=None)
    rmse = float(np.sqrt(((A1 @ W - Y) ** 2).mean()))
    return {"factors": [[round(float(v), 5) for v in row] for row in W[:4]],
            "bias": [round(float(v), 5) for v in W[4]], "fit_rmse": round(rmse, 4),
            "note": "rgb = latent . factors + bias on [-1,1] per latent pixel; fit_rmse on [-1,1]"}


def fit_preview_mlp(enc, images: np.ndarray, scaling: float, hidden: int = 16, steps: int = 3000) -> dict:
    """A per-latent-pixel MLP (4 -> h -> h -> 3, SiLU) for previews of latent spaces that are not linear in colour.

    Evaluated by the C# previewer instead of the linear factors when present; fit_rmse on held-out pixels.
    """
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        z = enc(x)[0] * scaling
    a = z.permute(0, 2, 3, 1).reshape(-1, 4)
    y = torch.nn.functional.avg_pool2d(x, 8).permute(0, 2, 3, 1).reshape(-1, 3)
    n = int(len(a) * 0.8)
    torch.manual_seed(0)
    l1, l2, l3 = torch.nn.Linear(4, hidden), torch.nn.Linear(hidden, hidden), torch.nn.Linear(hidden, 3)
    mlp = torch.nn.Sequential(l1, torch.nn.SiLU(), l2, torch.nn.SiLU(), l3)
    opt = torch.optim.Adam(mlp.parameters(), 3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        idx = torch.randint(0, n, (4096,))
        loss = ((mlp(a[idx]) - y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        rmse = float(((mlp(a[n:]) - y[n:]) ** 2).mean().sqrt())
    r = lambda t: [round(float(v), 6) for v in t.detach().reshape(-1)] if t.dim() == 1 else [r(row) for row in t]
    return {"activation": "silu", "w1": r(l1.weight), "b1": r(l1.bias), "w2": r(l2.weight), "b2": r(l2.bias),
            "w3": r(l3.weight), "b3": r(l3.bias), "fit_rmse": round(rmse, 4)}


def export_model(out: Path, te, unet, enc, dec, scaling: float, tok, sample_images: np.ndarray, stats: dict,
                 check_path: Path | None = None) -> None:
    out = Path(out)
    te, unet, enc, dec = te.eval(), unet.eval(), enc.eval(), dec.eval()
    dim = te.dim
    g = torch.Generator().manual_seed(7)
    ids = torch.tensor([tok.encode(EXAMPLE_PROMPTS[0])[0], tok.encode("")[0]], dtype=torch.int32)
    # the JSON files first (the reference sampler needs only them and model.pt), then the graphs
    out.mkdir(parents=True, exist_ok=True)
    (out / "model_index.json").write_text(json.dumps({
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.30.0",
        "text_encoder": ["diffusers", "OnnxRuntimeModel"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"], "vae_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "scheduler": ["diffusers", "PNDMScheduler"],
        "safety_checker": [None, None], "feature_extractor": [None, None], "requires_safety_checker": False,
    }, indent=2))
    (out / "scheduler").mkdir(exist_ok=True)
    (out / "scheduler/scheduler_config.json").write_text(json.dumps({
        "_class_name": "PNDMScheduler", "_diffusers_version": "0.30.0", "beta_start": 0.00085, "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "set_alpha_to_one": False,
        "skip_prk_steps": True, "steps_offset": 1, "clip_sample": False, "prediction_type": "epsilon",
        "trained_betas": None,
    }, indent=2))
    (out / "diffusion_gallery.json").write_text(json.dumps({
        "name": out.name, "display_name": "Tiny Shapes (bundled)",
        "description": f"A {sum(count(m) for m in (te, unet, enc, dec)) / 1e6:.1f} M-parameter latent diffusion model "
                       "trained from scratch on a procedural world of coloured shapes.",
        "native_width": 128, "native_height": 128, "max_width": 256, "max_height": 256,
        "scaling_factor": round(scaling, 6), "latent_channels": 4, "text_dim": dim,
        "preview": {**fit_preview(enc, sample_images, scaling), "mlp": fit_preview_mlp(enc, sample_images, scaling,
                                                                                 steps=50 if stats.get("smoke") else 3000)},
        "recommended": RECOMMENDED,
        "example_prompts": EXAMPLE_PROMPTS,
        "vocabulary": shapes_world.caption_vocabulary(),
        "license": "CC0-1.0 (weights trained by this project on procedurally generated data)",
    }, indent=2))
    (out / "training.json").write_text(json.dumps(stats, indent=2))
    _export(ExportedTextEncoder(te), (ids,), out / "text_encoder/model.onnx", ["input_ids"],
            ["last_hidden_state", "pooler_output"], {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"},
                                                    "pooler_output": {0: "batch"}})
    sample = torch.randn(2, 4, 16, 16, generator=g)
    timestep = torch.tensor([981.0, 981.0])
    ctx = torch.randn(2, 77, dim, generator=g)
    _export(unet, (sample, timestep, ctx), out / "unet/model.onnx", ["sample", "timestep", "encoder_hidden_states"],
            ["out_sample"], {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                             "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}})
    lat = torch.randn(1, 4, 8, 8, generator=g)
    _export(dec, (lat,), out / "vae_decoder/model.onnx", ["latent_sample"], ["sample"],
            {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "height", 3: "width"}})
    img = torch.rand(1, 3, 64, 64, generator=g) * 2 - 1
    _export(ExportedVaeEncoder(enc), (img,), out / "vae_encoder/model.onnx", ["sample"], ["latent_sample"],
            {"sample": {0: "batch", 2: "height", 3: "width"}, "latent_sample": {0: "batch", 2: "height", 3: "width"}})

    # check file: random inputs (one at a non-native size) and the PyTorch outputs
    with torch.no_grad():
        s2 = torch.randn(1, 4, 12, 20, generator=g)
        c2 = torch.randn(1, 77, dim, generator=g)
        t2 = torch.tensor([417.0])
        h, pooled = te(ids)
        checks = [
            {"file": "text_encoder/model.onnx", "inputs": {"input_ids": _tensor(ids)},
             "outputs": {"last_hidden_state": _tensor(h), "pooler_output": _tensor(pooled)}},
            {"file": "unet/model.onnx", "inputs": {"sample": _tensor(sample), "timestep": _tensor(timestep),
                                                   "encoder_hidden_states": _tensor(ctx)},
             "outputs": {"out_sample": _tensor(unet(sample, timestep, ctx))}},
            {"file": "unet/model.onnx", "inputs": {"sample": _tensor(s2), "timestep": _tensor(t2),
                                                   "encoder_hidden_states": _tensor(c2)},
             "outputs": {"out_sample": _tensor(unet(s2, t2, c2))}},
            {"file": "vae_decoder/model.onnx", "inputs": {"latent_sample": _tensor(lat)},
             "outputs": {"sample": _tensor(dec(lat))}},
            {"file": "vae_encoder/model.onnx", "inputs": {"sample": _tensor(img)},
             "outputs": {"latent_sample": _tensor(enc(img)[0])}},
        ]
    check_path = check_path or out.parent / (out.name + ".work") / "export_check.json"
    check_path.write_text(json.dumps({"tolerance": 1e-4, "graphs": checks}))



def export_from_checkpoint(work: Path, out: Path, combined: Path | None) -> None:
    """Exports from train.py's work folder (vae.pt + unet_ema.pt), e.g. an intermediate checkpoint."""
    import clip_tokenizer
    from models import text_encoder_for, unet_for, vae_config, vae_for
    vae = torch.load(work / "vae.pt", map_location="cpu")
    un = torch.load(work / "unet_ema.pt", map_location="cpu")
    tok = clip_tokenizer.build(shapes_world.vocabulary_words(), out / "tokenizer")
    te, unet, (enc, dec) = text_encoder_for(un, len(tok.encoder)), unet_for(un), vae_for(vae)
    te.load_state_dict(un["te"])
    unet.load_state_dict(un["unet"])
    stats_file = out / "training.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    stats["unet_steps"] = un.get("step", stats.get("unet_steps"))
    images, _, _ = shapes_world.make_dataset(512, 99)
    export_model(out, te, unet, enc, dec, vae["scaling"], tok, images, stats, work / "export_check.json")
    if combined:
        save_combined(combined, te, unet, enc, dec, vae["scaling"], stats["unet_steps"], vae_config(vae))


def save_combined(path: Path, te, unet, enc, dec, scaling: float, steps: int, vae_config: dict) -> None:
    """The one-file PyTorch checkpoint that reference.py (and so checker.py and grid.py) loads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"te": te.state_dict(), "unet": unet.state_dict(), "enc": enc.state_dict(), "dec": dec.state_dict(),
                "scaling": scaling, "step": steps, "unet_channels": list(unet.channels), "vae": vae_config,
                "relative_position": unet.relative_position, "text_bidirectional": te.bidirectional}, path)


def refit_preview(folder: Path, combined: Path) -> None:
    """Rewrites only the preview section of a model folder's diffusion_gallery.json (the graphs stay as they are)."""
    from models import vae_for
    ck = torch.load(combined, map_location="cpu")
    enc = vae_for(ck)[0].eval()
    images, _, _ = shapes_world.make_dataset(1500, 99)
    info_file = folder / "diffusion_gallery.json"
    info = json.loads(info_file.read_text())
    info["preview"] = {**fit_preview(enc, images[:512], ck["scaling"]), "mlp": fit_preview_mlp(enc, images, ck["scaling"])}
    info_file.write_text(json.dumps(info, indent=2))
    print("preview fit rmse: linear", info["preview"]["fit_rmse"], "mlp", info["preview"]["mlp"]["fit_rmse"])


VOCABULARY_START = "<!-- vocabulary:start (written by tools/tiny-model/export.py --vocabulary-only) -->"
VOCABULARY_END = "<!-- vocabulary:end -->"


def rewrite_vocabulary(folder: Path, model_card: Path | None) -> None:
    """Rewrites only the vocabulary of a model folder's diffusion_gallery.json (no graph is read or written),
    checked against sampled captions; with model_card, also its "Words the model knows" list."""
    words = shapes_world.check_caption_vocabulary()
    vocabulary = shapes_world.caption_vocabulary()
    info_file = folder / "diffusion_gallery.json"
    info = {k: v for k, v in json.loads(info_file.read_text()).items() if k != "vocabulary"}
    keys = list(info)
    at = keys.index("example_prompts") + 1 if "example_prompts" in keys else len(keys)
    info = {**{k: info[k] for k in keys[:at]}, "vocabulary": vocabulary, **{k: info[k] for k in keys[at:]}}
    info_file.write_text(json.dumps(info, indent=2))
    print(f"{info_file}: {words} words")
    if model_card:
        text = model_card.read_text()
        start, end = text.index(VOCABULARY_START), text.index(VOCABULARY_END)
        model_card.write_text(text[:start] + VOCABULARY_START + "\n" + vocabulary_markdown(vocabulary) + text[end:])
        print(f"{model_card}: vocabulary section rewritten")


def vocabulary_markdown(vocabulary: dict[str, list[str]]) -> str:
    rows = [("colours", "Colours"), ("kinds", "Shapes"), ("sizes", "Sizes"), ("positions", "Positions"),
            ("backgrounds", "Backgrounds"), ("counts", "Counts"), ("relations", "Relations")]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {title} | {', '.join(vocabulary[key])} |" for key, title in rows if key in vocabulary]
    lines += ["", f"All {len(vocabulary['words'])} words: {' '.join(vocabulary['words'])}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description="export a model folder from train.py's work folder")
    p.add_argument("--refit-preview", action="store_true", help="only refit the preview of --out from --combined")
    p.add_argument("--vocabulary-only", action="store_true",
                   help="only rewrite the vocabulary of --out's diffusion_gallery.json (and of --model-card)")
    p.add_argument("--model-card", help="with --vocabulary-only: docs/model-card.md, whose word list to rewrite")
    p.add_argument("--work", help="OUT.work folder written by train.py")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--combined", help="also write the PyTorch checkpoint reference.py loads")
    p.set_defaults()
    a = p.parse_args()
    if a.vocabulary_only:
        rewrite_vocabulary(Path(a.out), Path(a.model_card) if a.model_card else None)
        raise SystemExit(0)
    if a.refit_preview:
        refit_preview(Path(a.out), Path(a.combined))
        raise SystemExit(0)
    export_from_checkpoint(Path(a.work), Path(a.out), Path(a.combined) if a.combined else None)
