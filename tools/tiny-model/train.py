"""Trains the bundled tiny-shapes model and writes it in the diffusers ONNX layout.

    python3 train.py --out OUT_DIR            # full run (CUDA when available; ~15 min on one GPU)
    python3 train.py --out OUT_DIR --smoke    # 2-minute CPU smoke run (Debian python3-torch)
    python3 train.py --out OUT_DIR --unet-minutes 70   # time-budgeted CPU run, as used for models/tiny-shapes

Stages: render the shapes world -> train the VAE -> encode latents, measure the scaling factor ->
train text encoder + UNet (epsilon, SD 1.5 betas, 10 % caption dropout, EMA, min-SNR weighting) ->
export ONNX (export.py) with a PyTorch-vs-ONNX check file for the C# tests.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import clip_tokenizer
import export
import shapes_world
from models import TextEncoder, UNet, VaeDecoder, VaeEncoder, count

T = 1000


def sd15_alphas_cumprod() -> torch.Tensor:
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def render_dataset(n: int, seed: int, tok: clip_tokenizer.ClipTokenizer, captions_per_scene: int = 3):
    rng = random.Random(seed)
    images = np.empty((n, 128, 128, 3), np.uint8)
    tokens = np.empty((n, captions_per_scene, 77), np.int32)
    for i in range(n):
        scene = shapes_world.sample_scene(rng)
        images[i] = shapes_world.render(scene)
        for k in range(captions_per_scene):
            tokens[i, k] = tok.encode(shapes_world.caption_scene(rng, scene))[0]
    return images, tokens


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1


def train_vae(images: np.ndarray, steps: int, batch: int, device: str, seed: int):
    torch.manual_seed(seed)
    enc, dec = VaeEncoder().to(device), VaeDecoder().to(device)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, 1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=steps, pct_start=0.05)
    g = np.random.default_rng(seed)
    crop = 64 if device == "cpu" else 128  # fully convolutional: crops are enough and 4x cheaper on CPU
    for step in range(steps):
        idx = g.integers(0, len(images), batch)
        y0, x0 = g.integers(0, 128 - crop + 1, 2) // 8 * 8
        x = to_tensor(images[idx, y0:y0 + crop, x0:x0 + crop]).to(device)
        mean, logvar = enc(x)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        rec = dec(z)
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        loss = F.l1_loss(rec, x) + 1e-6 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"vae step {step}/{steps} l1 {F.l1_loss(rec, x).item():.4f} kl {kl.item():.2f}")
    return enc.eval(), dec.eval()


@torch.no_grad()
def encode_all(enc, images: np.ndarray, device: str) -> torch.Tensor:
    out = []
    for i in range(0, len(images), 256):
        out.append(enc(to_tensor(images[i:i + 256]).to(device))[0].cpu())
    return torch.cat(out)


def lr_at(frac: float, peak: float, warm: float = 0.03) -> float:
    if frac < warm:
        return peak * frac / warm
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - warm) / (1 - warm)))))


def train_unet(latents, tokens, vocab_size, eos_id, empty_ids, args, device, ckpt_dir: Path):
    torch.manual_seed(args.seed + 1)
    te, unet = TextEncoder(vocab_size).to(device), UNet().to(device)
    log(f"text encoder {count(te)} params, unet {count(unet)} params")
    params = list(te.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params, args.lr, weight_decay=0.01)
    ema = [copy.deepcopy(te).eval(), copy.deepcopy(unet).eval()]
    ac = sd15_alphas_cumprod().to(device)
    snr = ac / (1 - ac)
    g = np.random.default_rng(args.seed + 2)
    lat = latents.to(device)
    tok = torch.from_numpy(tokens).to(device)
    empty = torch.tensor(empty_ids, dtype=torch.int32, device=device)
    start, step, last_ckpt = time.time(), 0, time.time()
    budget = args.unet_minutes * 60 if args.unet_minutes else None
    avg = 0.0
    while True:
        frac = (time.time() - start) / budget if budget else step / args.unet_steps
        if frac >= 1:
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(frac, args.lr)
        idx = torch.from_numpy(g.integers(0, len(lat), args.batch)).to(device)
        which = torch.from_numpy(g.integers(0, tok.shape[1], args.batch)).to(device)
        ids = tok[idx, which]
        drop = torch.from_numpy(g.random(args.batch) < 0.1).to(device)
        ids = torch.where(drop[:, None], empty[None], ids)
        length = int((ids == eos_id).int().argmax(1).max().item()) + 1
        x0 = lat[idx]
        t = torch.randint(0, T, (args.batch,), device=device)
        noise = torch.randn_like(x0)
        a = ac[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        if device == "cuda":
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                ctx, _ = te(ids, length)
                pred = unet(xt, t.float(), ctx)
        else:
            ctx, _ = te(ids, length)
            pred = unet(xt, t.float(), ctx)
        w = torch.clamp(snr[t], max=5.0) / snr[t]  # min-SNR-5 weighting for epsilon prediction
        loss = (w * ((pred.float() - noise) ** 2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, m in zip(ema, (te, unet)):
                for pe, pm in zip(e.parameters(), m.parameters()):
                    pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        avg = 0.98 * avg + 0.02 * loss.item() if step else loss.item()
        if step % 100 == 0:
            log(f"unet step {step} frac {frac:.3f} loss {avg:.4f} lr {opt.param_groups[0]['lr']:.2e}")
        if time.time() - last_ckpt > 600:
            torch.save({"te": ema[0].state_dict(), "unet": ema[1].state_dict(), "step": step}, ckpt_dir / "unet_ema.pt")
            last_ckpt = time.time()
        step += 1
    log(f"unet done: {step} steps of batch {args.batch} in {(time.time() - start) / 60:.1f} min")
    return ema[0], ema[1], step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="model folder to write (diffusers ONNX layout)")
    p.add_argument("--smoke", action="store_true", help="tiny CPU run to check the code end to end")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--scenes", type=int, default=60000)
    p.add_argument("--vae-steps", type=int, default=1500)
    p.add_argument("--vae-batch", type=int, default=32)
    p.add_argument("--unet-steps", type=int, default=6000)
    p.add_argument("--unet-minutes", type=float, default=None, help="train the UNet for this long instead of --unet-steps")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    if args.smoke:
        args.scenes, args.vae_steps, args.unet_steps, args.batch, args.unet_minutes = 600, 40, 30, 32, None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.threads:
        torch.set_num_threads(args.threads)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out.parent / (out.name + ".work")
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    tok = clip_tokenizer.build(shapes_world.vocabulary_words(), out / "tokenizer")
    log(f"device {device}; vocabulary {len(tok.encoder)} tokens")
    images, tokens = render_dataset(args.scenes, args.seed, tok)
    log(f"rendered {len(images)} scenes")
    enc, dec = train_vae(images, args.vae_steps, args.vae_batch, device, args.seed)
    means = encode_all(enc, images, device)
    scaling = float(1.0 / means.std())
    with torch.no_grad():
        x = to_tensor(images[:256]).to(device)
        rec_l1 = F.l1_loss(dec(enc(x)[0]), x).item()
    log(f"latent std {means.std():.4f} -> scaling factor {scaling:.4f}; full-size reconstruction L1 {rec_l1:.4f}")
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "scaling": scaling}, work / "vae.pt")
    empty_ids, _ = tok.encode("")
    te, unet, steps = train_unet(means * scaling, tokens, len(tok.encoder), tok.eos_id, empty_ids, args, device, work)
    torch.save({"te": te.state_dict(), "unet": unet.state_dict(), "step": steps}, work / "unet_ema.pt")
    stats = {"device": device, "scenes": args.scenes, "vae_steps": args.vae_steps, "vae_reconstruction_l1": rec_l1,
             "scaling_factor": scaling, "unet_steps": steps, "batch": args.batch, "lr": args.lr,
             "train_minutes": (time.time() - t0) / 60, "smoke": args.smoke}
    export.export_model(out, te.cpu(), unet.cpu(), enc.cpu(), dec.cpu(), scaling, tok, images[:512], stats)
    log(f"wrote {out} in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
