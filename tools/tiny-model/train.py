"""Trains the bundled tiny-shapes model and writes it in the diffusers ONNX layout.

    python3 train.py --out OUT_DIR            # full run (CUDA; <= 7 min on one H100: render, VAE 1.7 min, UNet 3.7 min, export)
    python3 train.py --out OUT2 --resume OUT_DIR.work --max-minutes 4.8 --lr 5e-4   # continue the text encoder + UNet
    python3 train.py --out OUT_DIR --smoke    # 2-minute CPU smoke run (Debian python3-torch)
    python3 train.py --out OUT_DIR --batch 64 --unet-minutes 70   # time-budgeted CPU run

Stages: render the shapes world in four size buckets (128x128, 256x256, 96x128, 128x96) -> train the VAE on all
sizes (L1 with extra weight on shapes + edge L1) -> encode latents, measure the scaling factor at 128x128 ->
train text encoder + UNet (epsilon, SD 1.5 betas, 10 % caption dropout, EMA, min-SNR weighting, extra weight
on the latent pixels a shape touches; each batch one size bucket, its size scaled by the inverse area) ->
export ONNX (export.py) with a PyTorch-vs-ONNX check file for the C# tests, and OUT.work/model.pt, the one-file
checkpoint that reference.py / checker.py load (checker.py evaluate --model OUT --checkpoint OUT.work/model.pt).
"""
from __future__ import annotations

import argparse
import copy
import inspect
import json
import math
import multiprocessing
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import clip_tokenizer
import export
import shapes_world
from models import (DEFAULT_UNET_CHANNELS, DEFAULT_VAE, TextEncoder, UNet, VaeDecoder, VaeEncoder, count, fast_attention,
                    has_fast_attention, unet_for, vae_config, vae_for)

T = 1000


def sd15_alphas_cumprod() -> torch.Tensor:
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


CHUNK = 1000
CAPTIONS_PER_SCENE = 3
# size buckets (width, height, share of the scenes, share of the UNet steps): every batch is one size; the web
# presets are 96x128 / 128x96 (0.75x) and 256x256 (2x) around the native 128x128
BUCKETS = [(128, 128, 0.62, 0.5), (256, 256, 0.16, 0.25), (96, 128, 0.11, 0.125), (128, 96, 0.11, 0.125)]


def _render_chunk(job: tuple[int, int, int, int, int, int, str, bool]):
    """Scenes [start, start+n) of one bucket: chunk k of bucket b draws from Random(seed * 1_000_003 + 7919 * b + k),
    so the data set is the same whatever the number of worker processes. objects (--attention-loss): also each
    caption's object word positions and each scene's object masks (no random draws: the same scenes either way)."""
    seed, b, k, n, width, height, tokenizer_dir, objects = job
    tok = clip_tokenizer.ClipTokenizer.load(Path(tokenizer_dir))
    rng = random.Random(seed * 1_000_003 + 7919 * b + k)
    images = np.empty((n, height, width, 3), np.uint8)
    tokens = np.empty((n, CAPTIONS_PER_SCENE, 77), np.int32)
    shapes = np.empty((n, height // 8, width // 8), np.bool_)
    if objects:
        words = object_word_ids(tok)
        object_words = np.empty((n, CAPTIONS_PER_SCENE, MAX_OBJECTS, OBJECT_WORDS), np.int8)
        objects_blocks = np.empty((n, MAX_OBJECTS, height // 8, width // 8), np.bool_)
    for i in range(n):
        scene = shapes_world.sample_scene(rng)
        images[i] = shapes_world.render(scene, width, height)
        for c in range(CAPTIONS_PER_SCENE):
            tokens[i, c] = tok.encode(shapes_world.caption_scene(rng, scene))[0]
            if objects:
                object_words[i, c] = object_word_positions(tokens[i, c], scene, words)
        shapes[i] = shape_blocks(images[i], scene)
        if objects:
            objects_blocks[i] = object_blocks(scene, shapes[i])
    return (images, tokens, shapes) + ((object_words, objects_blocks) if objects else ())


# --attention-loss: a caption names up to MAX_OBJECTS objects, each by up to OBJECT_WORDS words (size, colour, kind);
# a count caption ("three small red circles") names one object: all its shapes
MAX_OBJECTS, OBJECT_WORDS = 3, 3


def object_word_ids(tok) -> tuple[set[int], set[int], set[int]]:
    """Token ids of the kind words (singular and plural), the colour words and the size words (one token each)."""
    vocab = shapes_world.caption_vocabulary()
    kinds = vocab["kinds"] + [shapes_world.PLURALS.get(w, w + "s") for w in vocab["kinds"]]
    ids = []
    for group in (kinds, vocab["colours"], vocab["sizes"]):
        pieces = [tok.tokenize(w) for w in group]
        assert all(len(p) == 1 for p in pieces), f"a word of {group} is not one token"
        ids.append({p[0] for p in pieces})
    return tuple(ids)


def object_word_positions(ids, scene, words) -> np.ndarray:
    """int8 [MAX_OBJECTS, OBJECT_WORDS]: the caption positions of each object's size, colour and kind word (-1: none),
    objects in the order of scene.shapes (the caption grammar names them in that order: "a (size) colour kind ...")."""
    kinds, colours, sizes = words
    out = np.full((MAX_OBJECTS, OBJECT_WORDS), -1, np.int8)
    at = [i for i, t in enumerate(ids) if t in kinds]
    if len(at) != (1 if scene.layout == "count" else len(scene.shapes)):
        return out  # not a caption of this grammar: no attention loss
    for o, i in enumerate(at):
        out[o, 2] = i
        if ids[i - 1] in colours:
            out[o, 1] = i - 1
            if ids[i - 2] in sizes:
                out[o, 0] = i - 2
    return out


def object_blocks(scene, blocks: np.ndarray) -> np.ndarray:
    """bool [MAX_OBJECTS, H/8, W/8]: the latent pixels each named object covers (a count scene: object 0, all shapes):
    the shape weight's blocks (shape_blocks), each given to the shape nearest to it in units of the shape's radius."""
    h, w = blocks.shape
    ys, xs = (np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w
    owner = np.argmin([np.hypot((xs[None] - s.fx) * w, (ys[:, None] - s.fy) * h) / (s.radius * min(h, w))
                       for s in scene.shapes], axis=0)
    out = np.zeros((MAX_OBJECTS, h, w), np.bool_)
    for k in range(len(scene.shapes)):
        out[0 if scene.layout == "count" else k] |= blocks & (owner == k)
    return out


def shape_blocks(image: np.ndarray, scene) -> np.ndarray:
    """[H/8, W/8] bool: the 8x8-pixel blocks (latent pixels) that a shape touches."""
    h, w = image.shape[:2]
    differs = np.abs(image.astype(np.int16) - shapes_world.background_image(scene.background, w, h).round()).max(-1) > 12
    return differs.reshape(h // 8, 8, w // 8, 8).any(axis=(1, 3))


def render_dataset(n: int, seed: int, tokenizer_dir: Path, processes: int, objects: bool = False) -> list[dict]:
    """One dict per size bucket: images, tokens, shapes (latent-pixel masks), width, height, step share; objects: also
    object_words [n, captions, MAX_OBJECTS, OBJECT_WORDS] and object_blocks [n, MAX_OBJECTS, H/8, W/8] (--attention-loss)."""
    jobs = []
    for b, (w, h, share, _) in enumerate(BUCKETS):
        nb = max(8, int(n * share))
        jobs += [(seed, b, k, min(CHUNK, nb - start), w, h, str(tokenizer_dir), objects)
                 for k, start in enumerate(range(0, nb, CHUNK))]
    if processes > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_render_chunk, jobs, chunksize=1)
    else:
        parts = [_render_chunk(job) for job in jobs]
    buckets = []
    for b, (w, h, _, step_share) in enumerate(BUCKETS):
        mine = [p for p, j in zip(parts, jobs) if j[1] == b]
        images, tokens, shapes = (np.concatenate([p[i] for p in mine]) for i in range(3))
        buckets.append({"images": images, "tokens": tokens, "shapes": shapes, "width": w, "height": h, "share": step_share})
        if objects:
            buckets[-1]["object_words"], buckets[-1]["object_blocks"] = (np.concatenate([p[i] for p in mine]) for i in (3, 4))
    return buckets


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def train_vae(buckets: list[dict], args, device: str, init: tuple | None = None):
    """L1 plus L1 on the image gradients (edges decide a small shape's kind), extra weight on the pixels of the
    latent blocks a shape touches, a tiny KL; batches from every size bucket (crops of at most 128x128, 64x64 on
    CPU); the learning rate follows whichever ends first, --vae-steps or --vae-minutes.
    init=(enc, dec): fine-tune that decoder only; the encoder stays frozen, so the latent space (and a UNet trained on
    it) does not change."""
    torch.manual_seed(args.seed)
    if init:
        enc, dec = (m.to(device) for m in init)
        enc.eval().requires_grad_(False)
        params = list(dec.parameters())
    else:
        enc, dec = VaeEncoder().to(device), VaeDecoder().to(device)
        params = list(enc.parameters()) + list(dec.parameters())
    opt = optimiser(torch.optim.Adam, params, device, lr=args.vae_lr)
    g = np.random.default_rng(args.seed)
    limit = 64 if device == "cpu" else 128  # fully convolutional: crops are enough
    shares = np.array(args.vae_bucket_shares[:len(buckets)])
    start, step = time.time(), 0
    cap = args.vae_minutes * 60 if args.vae_minutes else None
    while True:
        frac = step / args.vae_steps
        if cap:
            frac = max(frac, (time.time() - start) / cap)
        if frac >= 1:
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(frac, args.vae_lr, warm=0.05)
        bk = buckets[g.choice(len(buckets), p=shares / shares.sum())]
        images, blocks = bk["images"], bk["shapes"]
        ch, cw = min(limit, bk["height"]), min(limit, bk["width"])
        idx = np.sort(g.integers(0, len(images), args.vae_batch))
        y0 = int(g.integers(0, bk["height"] - ch + 1)) // 8 * 8
        x0 = int(g.integers(0, bk["width"] - cw + 1)) // 8 * 8
        x = to_tensor(images[idx, y0:y0 + ch, x0:x0 + cw]).to(device, non_blocking=True)
        blk = torch.from_numpy(blocks[idx, y0 // 8:(y0 + ch) // 8, x0 // 8:(x0 + cw) // 8]).to(device).float()
        pw = 1 + args.vae_shape_weight * blk.repeat_interleave(8, 1).repeat_interleave(8, 2)[:, None]
        if init:
            with torch.no_grad():
                mean, logvar = enc(x)
            z = mean  # the decoder sees what the UNet's samples look like: the posterior mean
        else:
            mean, logvar = enc(x)
            z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        rec = dec(z)
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        edges = sum(F.l1_loss(r, t) for r, t in zip(image_gradients(rec), image_gradients(x)))
        l1 = ((rec - x).abs() * pw).mean() / pw.mean()
        loss = l1 + args.vae_edge_weight * edges + 1e-6 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 500 == 0:
            log(f"vae step {step} frac {frac:.3f} l1 {F.l1_loss(rec, x).item():.4f} edges {edges.item():.4f} kl {kl.item():.2f}")
        step += 1
    log(f"vae done: {step} steps of batch {args.vae_batch} in {(time.time() - start) / 60:.1f} min")
    return enc.eval(), dec.eval(), step


@torch.no_grad()
def reconstruction_l1(enc, dec, buckets: list[dict], device: str) -> dict[str, float]:
    """Whole-image L1 of a VAE round trip on the first 128 renders of each size bucket, by "WxH"."""
    return {f"{bk['width']}x{bk['height']}": F.l1_loss(dec(enc(x)[0]), x).item()
            for bk in buckets for x in [to_tensor(bk["images"][:128]).to(device)]}


@torch.no_grad()
def encode_all(enc, images: np.ndarray, device: str) -> torch.Tensor:
    """Posterior means; on CUDA the uint8 images go over as they are and are scaled there (the same float32 values as
    to_tensor on the host, a quarter of the copying), in batches of 1024 at 128x128."""
    out = []
    batch = 256 if device == "cpu" else max(64, 1024 * 128 * 128 // (images.shape[1] * images.shape[2]))
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch]).to(device, non_blocking=True).permute(0, 3, 1, 2).float() / 127.5 - 1
        out.append(enc(x)[0].cpu())
    return torch.cat(out)


def optimiser(cls, params, device: str, **kw):
    """Adam/AdamW, fused (one kernel for all parameters) where the torch version and the device allow it."""
    if device == "cuda" and "fused" in inspect.signature(cls).parameters:
        return cls(params, fused=True, **kw)
    return cls(params, **kw)


def lr_at(frac: float, peak: float, warm: float = 0.03) -> float:
    if frac < warm:
        return peak * frac / warm
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (frac - warm) / (1 - warm)))))


def attention_loss(layers, positions: torch.Tensor, blocks: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean over the named objects' words and the layers of 1 - the share of the word's cross-attention map (heads
    averaged, normalised over the image) that lies on its object's latent pixels (TokenCompose's token loss).
    layers: Attention modules that kept their probabilities [B, heads, h*w, 77]; positions: long [B, MAX_OBJECTS,
    OBJECT_WORDS] (-1: none); blocks: bool [B, MAX_OBJECTS, H, W] at the latent size; keep: bool [B] (no caption dropout)."""
    b, o, k = positions.shape
    ok = ((positions >= 0) & keep[:, None, None] & blocks.flatten(2).any(-1)[:, :, None]).reshape(b, o * k).float()
    where = positions.clamp(min=0).reshape(b, 1, 1, o * k)
    total = 0.0
    for layer in layers:
        p, layer.probs = layer.probs, None
        heads, n = p.shape[1], p.shape[2]
        f = int(round(math.sqrt(blocks.shape[2] * blocks.shape[3] / n)))  # 1, 2, 4: the layer's latent downsampling
        m = F.max_pool2d(blocks.float(), f) if f > 1 else blocks.float()
        m = m.flatten(2).repeat_interleave(k, dim=1)  # [B, objects x words, h*w]
        a = torch.gather(p, 3, where.expand(b, heads, n, o * k)).float().mean(1)  # [B, h*w, objects x words]
        a = a / a.sum(1, keepdim=True).clamp_min(1e-8)
        inside = torch.einsum("bnk,bkn->bk", a, m)
        total = total + ((1 - inside) * ok).sum() / ok.sum().clamp_min(1)
    return total / len(layers)


def train_unet(buckets: list[dict], vocab_size, eos_id, empty_ids, args, device, ckpt_dir: Path, init: dict | None = None):
    """Each step takes its batch from one size bucket (by the buckets' step shares), batch size scaled by the
    inverse area so every step costs about the same (--batch is the 128x128 batch)."""
    torch.manual_seed(args.seed + 1)
    unet = unet_for(init) if init else UNet(channels=args.unet_channels)
    bidirectional = args.text_attention == "bidirectional" if args.text_attention else bool(init and init.get("text_bidirectional"))
    te, unet, channels = TextEncoder(vocab_size, bidirectional=bidirectional).to(device), unet.to(device), unet.channels
    if init:  # continue from an earlier run's EMA weights (fresh optimiser, warm-up and cosine again)
        te.load_state_dict(init["te"])
        unet.load_state_dict(init["unet"])
    log(f"text encoder {count(te)} params ({'bidirectional' if bidirectional else 'causal'}), unet {count(unet)} params")
    if args.channels_last:
        unet = unet.to(memory_format=torch.channels_last)
    params = list(te.parameters()) + list(unet.parameters())
    opt = optimiser(torch.optim.AdamW, params, device, lr=args.lr, weight_decay=0.01)
    ema = [copy.deepcopy(te).eval(), copy.deepcopy(unet).eval()]
    # the compiled forward shares the module's parameters: state_dict names, the EMA and the export stay as they are
    forward = unet
    if args.compile:
        if hasattr(torch, "compile"):
            forward = torch.compile(unet)
            log("unet forward: torch.compile (the first steps of each size bucket compile)")
        else:
            log(f"--compile: torch {torch.__version__} has no torch.compile; eager")
    # --attention-loss: these cross-attention layers keep their probabilities (matmul/softmax path) for the loss
    att_weight = getattr(args, "attention_loss", 0.0)
    att_layers = [getattr(unet, name).cross for name in args.attention_loss_layers] if att_weight else []
    for layer in att_layers:
        layer.keep_probs = True
    below_t = args.shape_weight_below_t
    above_fraction = args.shape_weight_above / args.shape_weight if args.shape_weight else 0.0
    log(f"attention {'scaled_dot_product_attention' if args.attention == 'sdpa' and has_fast_attention() else 'matmul/softmax'}, "
        f"optimiser {'fused ' if opt.defaults.get('fused') else ''}AdamW, channels_last {args.channels_last}, "
        f"shape weight {args.shape_weight} at t < {below_t}" + (f", {args.shape_weight_above} above" if below_t < T else "")
        + (f", attention loss {att_weight} at {','.join(args.attention_loss_layers)}" if att_weight else ""))
    ac = sd15_alphas_cumprod().to(device)
    snr = ac / (1 - ac)
    gen = torch.Generator(device=device).manual_seed(args.seed + 2)
    # per latent pixel loss weight: a small shape covers ~3x3 of 256 latent pixels, so without this the background
    # dominates the loss; the optimum per pixel stays the same (the weights do not depend on the noise)
    data = []
    for bk in buckets:
        data.append({"lat": bk["latents"].to(device), "tok": torch.from_numpy(bk["tokens"]).to(device),
                     "pw": (1 + args.shape_weight * torch.from_numpy(bk["shapes"]).to(device).float())[:, None],
                     "batch": max(4, int(round(args.batch * 128 * 128 / (bk["width"] * bk["height"]) / 4)) * 4)})
        if att_weight:
            data[-1]["object_words"] = torch.from_numpy(bk["object_words"]).to(device)
            data[-1]["object_blocks"] = torch.from_numpy(bk["object_blocks"]).to(device)
    shares = np.array([bk["share"] for bk in buckets])
    pick = np.random.default_rng(args.seed + 3)
    empty = torch.tensor(empty_ids, dtype=torch.int32, device=device)
    # the text encoder runs on the first `length` tokens only: the longest caption (EOS included); causal attention
    # makes the result the same as on all 77, and a fixed length keeps every step's shapes (and the host) free of syncs
    length = int(max(max((bk["tokens"] == eos_id).argmax(-1).max() for bk in buckets), empty_ids.index(eos_id))) + 1
    start, step, last_ckpt = time.time(), 0, time.time()
    budget = args.unet_minutes * 60 if args.unet_minutes else None
    cap = args.max_minutes * 60 if args.max_minutes else None
    avg, losses, att_avg, att_losses = 0.0, [], 0.0, []
    while True:
        # the learning-rate schedule follows whichever ends first: the step count or the time budget
        elapsed = time.time() - start
        frac = elapsed / budget if budget else step / args.unet_steps
        if cap:
            frac = max(frac, elapsed / cap)
        if frac >= 1:
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(frac, args.lr)
        d = data[pick.choice(len(data), p=shares / shares.sum())]
        lat, tok, bs = d["lat"], d["tok"], d["batch"]
        idx = torch.randint(0, len(lat), (bs,), device=device, generator=gen)
        which = torch.randint(0, tok.shape[1], (bs,), device=device, generator=gen)
        drop = torch.rand(bs, device=device, generator=gen) < 0.1
        ids = torch.where(drop[:, None], empty[None], tok[idx, which])
        x0 = lat[idx]
        if args.channels_last:
            x0 = x0.contiguous(memory_format=torch.channels_last)
        t = torch.randint(0, T, (bs,), device=device)
        noise = torch.randn_like(x0)
        a = ac[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        if device == "cuda":
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                ctx, _ = te(ids, length)
                pred = forward(xt, t.float(), ctx)
        else:
            ctx, _ = te(ids, length)
            pred = forward(xt, t.float(), ctx)
        w = torch.clamp(snr[t], max=5.0) / snr[t]  # min-SNR-5 weighting for epsilon prediction
        pw = d["pw"][idx]
        if below_t < T:
            # the extra weight on shape pixels shifts the optimum towards "a shape is here" wherever the noisy latent
            # leaves that open (high t): only where the layout is already decided does it sharpen the shapes alone
            # (above: a fraction --shape-weight-above / --shape-weight of it stays at high t)
            low = (t < below_t).float()[:, None, None, None]
            pw = 1 + (pw - 1) * (low + (1 - low) * above_fraction)
        loss = (w * (pw * (pred.float() - noise) ** 2).mean(dim=(1, 2, 3)) / pw.mean(dim=(1, 2, 3))).mean()
        if att_weight:
            att = attention_loss(att_layers, d["object_words"][idx, which].long(), d["object_blocks"][idx], ~drop)
            att_losses.append(att.detach())
            loss = loss + att_weight * att
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, m in zip(ema, (te, unet)):
                ep = list(e.parameters())
                torch._foreach_mul_(ep, decay)
                torch._foreach_add_(ep, [q.detach() for q in m.parameters()], alpha=1 - decay)
        losses.append(loss.detach())
        if step % 100 == 0:
            for value in torch.stack(losses).tolist():  # one sync per 100 steps
                avg = 0.98 * avg + 0.02 * value if avg else value
            losses.clear()
            for value in (torch.stack(att_losses).tolist() if att_losses else []):
                att_avg = 0.98 * att_avg + 0.02 * value if att_avg else value
            att_losses.clear()
            rate = step / max(elapsed, 1e-9)
            log(f"unet step {step} frac {frac:.3f} loss {avg:.4f} lr {opt.param_groups[0]['lr']:.2e} {rate:.1f} steps/s"
                + (f" attention loss {att_avg:.4f}" if att_weight else ""))
        if time.time() - last_ckpt > 600:
            done = step + (int(init.get("step", 0)) if init else 0)
            torch.save({"te": ema[0].state_dict(), "unet": ema[1].state_dict(), "step": done, "unet_channels": list(channels),
                        "relative_position": unet.relative_position, "text_bidirectional": te.bidirectional},
                       ckpt_dir / "unet_ema.pt")
            last_ckpt = time.time()
        step += 1
    log(f"unet done: {step} steps of batch {args.batch} in {(time.time() - start) / 60:.1f} min")
    for layer in att_layers:
        layer.keep_probs = False
    if args.channels_last:  # checkpoints and the export in the usual layout
        ema[1] = ema[1].to(memory_format=torch.contiguous_format)
    return ema[0], ema[1], step


def load_resume(path: Path) -> tuple[dict, dict]:
    """(VAE record, text encoder + UNet record) of an OUT.work folder or of a one-file checkpoint (export.save_combined)."""
    if path.is_dir():
        return torch.load(path / "vae.pt", map_location="cpu"), torch.load(path / "unet_ema.pt", map_location="cpu")
    ck = torch.load(path, map_location="cpu")
    vae = {k: ck[k] for k in ("enc", "dec", "scaling", "vae") if k in ck} | {"steps": ck.get("vae_steps", 0)}
    return vae, {k: ck[k] for k in ("te", "unet", "step", "unet_channels", "relative_position", "text_bidirectional") if k in ck}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="model folder to write (diffusers ONNX layout)")
    p.add_argument("--smoke", action="store_true", help="tiny CPU run to check the code end to end")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--scenes", type=int, default=160000, help="scenes over all size buckets (BUCKETS' shares)")
    p.add_argument("--vae-steps", type=int, default=12000)
    p.add_argument("--vae-minutes", type=float, default=1.7, help="end the VAE schedule early after this long (0: no cap)")
    p.add_argument("--vae-batch", type=int, default=128)
    p.add_argument("--vae-lr", type=float, default=1e-3)
    p.add_argument("--vae-edge-weight", type=float, default=1.5, help="weight of the L1 loss on image gradients")
    p.add_argument("--vae-shape-weight", type=float, default=3.0, help="extra L1 weight on the latent blocks a shape touches")
    p.add_argument("--vae-bucket-shares", type=lambda v: [float(x) for x in v.split(",")], default=[0.45, 0.35, 0.1, 0.1],
                   help="VAE batch shares of the size buckets 128x128,256x256,96x128,128x96")
    p.add_argument("--unet-steps", type=int, default=16000)
    p.add_argument("--unet-minutes", type=float, default=None, help="train the UNet for this long instead of --unet-steps")
    p.add_argument("--max-minutes", type=float, default=3.7,
                   help="end the UNet schedule early if --unet-steps would take longer than this (0: no cap)")
    p.add_argument("--unet-channels", type=lambda v: tuple(int(c) for c in v.split(",")), default=DEFAULT_UNET_CHANNELS,
                   help="UNet widths at 16x16, 8x8 and 4x4 latents, e.g. 64,128,192 (multiples of 8)")
    p.add_argument("--shape-weight", type=float, default=3.0,
                   help="extra loss weight on the latent pixels a shape touches (0: plain epsilon MSE)")
    p.add_argument("--shape-weight-below-t", type=int, default=T,
                   help="apply --shape-weight only at timesteps below this (default 1000: all); at high t it biases the "
                        "denoiser towards drawing shapes where the caption leaves their place open (extra shapes)")
    p.add_argument("--shape-weight-above", type=float, default=0.0,
                   help="with --shape-weight-below-t: the extra shape weight at and above that timestep (default 0: none); "
                        "relations need some of it at high noise to place two shapes (DIAGNOSIS.md §6)")
    p.add_argument("--attention", choices=["sdpa", "matmul"], default="sdpa",
                   help="training attention: torch's fused scaled_dot_product_attention where the torch version has it "
                        "(>= 2.0), else matmul/softmax; the export is always matmul/softmax")
    p.add_argument("--attention-loss", type=float, default=0.0,
                   help="weight of a layout loss on the cross-attention maps (0: off): each object word of the caption "
                        "(size, colour, kind) should attend to its object's latent pixels (1 - the map's share there)")
    p.add_argument("--attention-loss-layers", type=lambda v: v.split(","), default=["a0", "a1", "ua1", "ua0"],
                   help="UNet blocks whose cross-attention the loss reads (default: the latent and half size levels)")
    p.add_argument("--compile", action="store_true", help="torch.compile the UNet forward in training (CUDA; compile time "
                                                          "counts against the UNet's minutes)")
    p.add_argument("--channels-last", action="store_true", help="UNet in channels_last memory format in training")
    p.add_argument("--text-attention", choices=["causal", "bidirectional"], default=None,
                   help="the text encoder's mask (default: the resumed checkpoint's, else causal); bidirectional lets the first "
                        "object's words see the relation word after them")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--resume", help="an earlier run's OUT.work folder (vae.pt + unet_ema.pt) or one-file checkpoint "
                                    "(model.pt, e.g. checkpoint/tiny-shapes.pt): keep its VAE, continue its text encoder + UNet")
    p.add_argument("--decoder-only", action="store_true",
                   help="with --resume: fine-tune the VAE decoder only (frozen encoder, --vae-minutes), write OUT.work/vae.pt, stop")
    p.add_argument("--decoder-from", help="a vae.pt whose decoder replaces the resumed one at export (waits for it to appear)")
    p.add_argument("--no-export", action="store_true",
                   help="write model.pt, the work files and training.json only (no ONNX graphs): a stage that another run continues")
    p.add_argument("--decoder-wait", type=float, default=120, help="seconds to wait for --decoder-from after the UNet is done")
    p.add_argument("--layouts", help="scene layout shares, e.g. single=0.3,count=0.3,relation=0.3,mixed=0.1")
    p.add_argument("--bucket-steps", help="UNet step shares of the buckets 128x128,256x256,96x128,128x96, e.g. 0.4,0.3,0.15,0.15")
    p.add_argument("--processes", type=int, default=min(16, os.cpu_count() or 1), help="worker processes for rendering")
    args = p.parse_args()
    if args.smoke:
        args.scenes, args.vae_steps, args.vae_batch, args.unet_steps, args.batch = 160, 8, 8, 6, 16
        args.unet_minutes, args.max_minutes, args.vae_minutes = None, 0, 0
    if args.decoder_only and not args.resume:
        p.error("--decoder-only needs --resume")
    if args.layouts:
        try:
            shares = {k.strip(): float(v) for k, v in (part.split("=") for part in args.layouts.split(","))}
        except ValueError:
            p.error(f"--layouts takes name=share pairs, e.g. single=0.3,count=0.3,relation=0.3,mixed=0.1, not {args.layouts!r}")
        if set(shares) != set(shapes_world.LAYOUTS) or min(shares.values()) < 0:
            p.error(f"--layouts needs a share for each of {sorted(shapes_world.LAYOUTS)}")
        shapes_world.LAYOUTS.update(shares)
    if args.bucket_steps:
        try:
            steps = [float(v) for v in args.bucket_steps.split(",")]
        except ValueError:
            p.error(f"--bucket-steps takes {len(BUCKETS)} comma-separated numbers, not {args.bucket_steps!r}")
        if len(steps) != len(BUCKETS) or min(steps) < 0:
            p.error(f"--bucket-steps needs {len(BUCKETS)} shares")
        BUCKETS[:] = [(w, h, share, st) for (w, h, share, _), st in zip(BUCKETS, steps)]
    if len(args.vae_bucket_shares) != len(BUCKETS) or min(args.vae_bucket_shares) < 0 or sum(args.vae_bucket_shares) <= 0:
        p.error(f"--vae-bucket-shares needs {len(BUCKETS)} shares, not all 0")
    if not 0 <= args.shape_weight_above <= max(args.shape_weight, 0):
        p.error("--shape-weight-above must be between 0 and --shape-weight")
    if args.attention_loss < 0 or not set(args.attention_loss_layers) <= {"a0", "a1", "a2", "ua2", "ua1", "ua0"}:
        p.error("--attention-loss must be >= 0 and --attention-loss-layers a list of a0,a1,a2,ua2,ua1,ua0")
    if not 0 < args.shape_weight_below_t <= T:
        p.error(f"--shape-weight-below-t must be in 1..{T}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out.parent / (out.name + ".work")
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    tok = clip_tokenizer.build(shapes_world.vocabulary_words(), out / "tokenizer")
    log(f"vocabulary {len(tok.encoder)} tokens")
    # render before touching CUDA: the worker processes are forked
    buckets = render_dataset(args.scenes, args.seed, out / "tokenizer", args.processes, objects=args.attention_loss > 0)
    log(f"rendered {' + '.join(str(len(b['images'])) + ' at ' + str(b['width']) + 'x' + str(b['height']) for b in buckets)}"
        f" scenes with {args.processes} processes in {time.time() - t0:.0f} s")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    log(f"device {device}" + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else ""))
    if args.threads:
        torch.set_num_threads(args.threads)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    init = None
    if args.resume:
        vae, init = load_resume(Path(args.resume))
        enc, dec = (m.to(device).eval() for m in vae_for(vae))
        vae_shape, vae_steps = vae_config(vae), int(vae.get("steps", args.vae_steps))
        log(f"resuming from {args.resume}: its VAE, and text encoder + UNet after {init.get('step')} steps")
        if args.decoder_only:
            enc, dec, more = train_vae(buckets, args, device, init=(enc, dec))
            rec = reconstruction_l1(enc, dec, buckets, device)
            log(f"decoder fine-tuned: full-size reconstruction L1 {rec}")
            tmp = work / "vae.pt.tmp"
            torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "scaling": float(vae["scaling"]), "vae": vae_shape,
                        "steps": vae_steps, "decoder_finetune_steps": more, "reconstruction_l1": rec}, tmp)
            tmp.rename(work / "vae.pt")  # appears whole: the UNet run waits for it (--decoder-from)
            return
    else:
        enc, dec, vae_steps = train_vae(buckets, args, device)
        vae_shape = DEFAULT_VAE
    for bk in buckets:
        bk["latents"] = encode_all(enc, bk["images"], device)
    means = buckets[0]["latents"]  # the scaling factor is measured at the native size
    scaling = float(vae["scaling"]) if args.resume else float(1.0 / means.std())
    rec = reconstruction_l1(enc, dec, buckets, device)
    for bk in buckets:
        bk["latents"] = bk["latents"] * scaling
    rec_l1 = rec["128x128"]
    log(f"latent std {means.std():.4f} -> scaling factor {scaling:.4f}; full-size reconstruction L1 {rec}")
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "scaling": scaling, "vae": vae_shape,
                "steps": vae_steps}, work / "vae.pt")
    empty_ids, _ = tok.encode("")
    with fast_attention(args.attention == "sdpa"):
        te, unet, steps = train_unet(buckets, len(tok.encoder), tok.eos_id, empty_ids, args, device, work, init)
    if init:
        steps += int(init.get("step", 0))
    decoder_steps = None
    if args.decoder_from:
        waited = time.time()
        while not Path(args.decoder_from).exists() and time.time() - waited < args.decoder_wait:
            time.sleep(2)
        if Path(args.decoder_from).exists():
            tuned = torch.load(args.decoder_from, map_location="cpu")
            if float(tuned["scaling"]) != scaling or vae_config(tuned) != vae_shape:
                raise SystemExit(f"{args.decoder_from} is not a decoder of this VAE")
            candidate = copy.deepcopy(dec)
            candidate.load_state_dict(tuned["dec"])
            # keep whichever decoder draws the shapes better: L1 on the pixels of the blocks a shape touches, 128x128
            with torch.no_grad():
                x = to_tensor(buckets[0]["images"][-256:]).to(device)
                blk = torch.from_numpy(buckets[0]["shapes"][-256:]).to(device).float()
                m = blk.repeat_interleave(8, 1).repeat_interleave(8, 2)[:, None].expand_as(x)
                z = enc(x)[0]
                old_err, new_err = (((d(z) - x).abs() * m).sum().item() / m.sum().item() for d in (dec, candidate))
            keep = new_err < old_err
            log(f"decoder from {args.decoder_from} ({tuned.get('decoder_finetune_steps')} fine-tuning steps): L1 on shapes "
                f"{old_err:.4f} -> {new_err:.4f}, {'taken' if keep else 'not taken'}")
            if keep:
                dec, decoder_steps = candidate, tuned.get("decoder_finetune_steps")
                rec = reconstruction_l1(enc, dec, buckets, device)
                rec_l1 = rec["128x128"]
                torch.save({"enc": enc.state_dict(), "dec": dec.state_dict(), "scaling": scaling, "vae": vae_shape,
                            "steps": vae_steps, "decoder_finetune_steps": decoder_steps}, work / "vae.pt")
        else:
            log(f"no {args.decoder_from} after {args.decoder_wait:.0f} s: the resumed decoder stays")
    torch.save({"te": te.state_dict(), "unet": unet.state_dict(), "step": steps, "unet_channels": list(unet.channels),
                "relative_position": unet.relative_position, "text_bidirectional": te.bidirectional}, work / "unet_ema.pt")
    log(f"trained in {(time.time() - t0) / 60:.1f} min; exporting")
    stats = {"device": device + (f" {torch.cuda.get_device_name()}" if device == "cuda" else ""), "torch": torch.__version__,
             "unet_channels": list(unet.channels), "resumed_from_steps": int(init.get("step", 0)) if init else 0,
             "scenes": args.scenes, "vae": vae_shape, "vae_steps": vae_steps, "vae_batch": args.vae_batch,
             "vae_reconstruction_l1": rec_l1, "vae_reconstruction_l1_by_size": rec,
             "buckets": [{"width": b["width"], "height": b["height"], "scenes": len(b["images"]), "step_share": b["share"],
                          "batch": max(4, int(round(args.batch * 128 * 128 / (b["width"] * b["height"]) / 4)) * 4)}
                         for b in buckets],
             "scaling_factor": scaling, "unet_steps": steps, "batch": args.batch, "lr": args.lr,
             "shape_weight": args.shape_weight, "shape_weight_below_t": args.shape_weight_below_t,
             "shape_weight_above": args.shape_weight_above,
             **({"attention_loss": args.attention_loss, "attention_loss_layers": args.attention_loss_layers}
                if args.attention_loss else {}),
             "layouts": dict(shapes_world.LAYOUTS), "decoder_finetune_steps": decoder_steps,
             "train_minutes": (time.time() - t0) / 60, "smoke": args.smoke}
    # model.pt first (reference.py / checker.py): should the ONNX export fail, export.py --work can redo it anywhere
    export.save_combined(work / "model.pt", te, unet, enc, dec, scaling, steps, vae_shape)
    if args.no_export:
        (out / "training.json").write_text(json.dumps(stats, indent=2))
        log(f"wrote {work / 'model.pt'} (no ONNX export) in {(time.time() - t0) / 60:.1f} min")
        return
    export.export_model(out, te.cpu(), unet.cpu(), enc.cpu(), dec.cpu(), scaling, tok, buckets[0]["images"][:512], stats)
    log(f"wrote {out} in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
