"""Prompt-adherence checker: a small CNN trained on the procedural ground truth of single-shape scenes.

It reads an image and predicts the background, the shape's colour, its kind and its position. It is
validated on fresh renders first (each head must be >= 98 % accurate), then used to score generated images.

    python3 checker.py train                      # trains and validates, writes checkpoint/checker.pt
    python3 checker.py evaluate --model ../../models/tiny-shapes --out ../../docs/adherence.json
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import shapes_world as sw

HERE = Path(__file__).resolve().parent
HEADS = {"background": sw.BACKGROUNDS, "colour": sw.COLOUR_NAMES, "kind": sw.KINDS, "position": sw.POSITION_NAMES}


class Checker(nn.Module):
    def __init__(self):
        super().__init__()
        def blk(a, b):
            return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2))
        self.body = nn.Sequential(blk(3, 32), blk(32, 64), blk(64, 96), blk(96, 128))  # 64 -> 4
        self.heads = nn.ModuleDict({k: nn.Linear(128 * 4 * 4, len(v)) for k, v in HEADS.items()})

    def forward(self, x):
        f = self.body(F.avg_pool2d(x, 2)).flatten(1)  # works at 64x64 internally
        return {k: h(f) for k, h in self.heads.items()}


def labels(scene: sw.Scene) -> dict[str, int]:
    s = scene.shapes[0]
    return {"background": sw.BACKGROUNDS.index(scene.background), "colour": sw.COLOUR_NAMES.index(s.colour),
            "kind": sw.KINDS.index(s.kind), "position": sw.POSITION_NAMES.index(s.position)}


def single_shape_set(n: int, seed: int, allow_held_out: bool):
    rng = random.Random(seed)
    images, ys = np.empty((n, 128, 128, 3), np.uint8), {k: np.empty(n, np.int64) for k in HEADS}
    for i in range(n):
        sc = sw.sample_scene(rng, allow_held_out=allow_held_out, n_shapes=1)
        images[i] = sw.render(sc)
        for k, v in labels(sc).items():
            ys[k][i] = v
    return images, ys


def to_input(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1


def augment(x: torch.Tensor) -> torch.Tensor:
    """Robustness to the artefacts of generated images: noise, blur, slight colour shifts."""
    b = x.shape[0]
    x = x * (1 + 0.06 * (torch.rand(b, 3, 1, 1) - 0.5)) + 0.06 * (torch.rand(b, 3, 1, 1) - 0.5)
    if random.random() < 0.5:
        x = F.avg_pool2d(x, 3, 1, 1)
    return x + 0.04 * torch.randn_like(x)


def predict(model: Checker, images: np.ndarray) -> dict[str, np.ndarray]:
    model.eval()
    out = {k: [] for k in HEADS}
    with torch.no_grad():
        for i in range(0, len(images), 256):
            for k, v in model(to_input(images[i:i + 256])).items():
                out[k].append(v.argmax(1).numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def train(args) -> None:
    torch.manual_seed(0)
    images, ys = single_shape_set(args.n, 11, allow_held_out=True)
    model, t0 = Checker(), time.time()
    opt = torch.optim.AdamW(model.parameters(), 2e-3, weight_decay=1e-4)
    steps = args.epochs * len(images) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps)
    g = np.random.default_rng(0)
    for step in range(steps):
        model.train()
        idx = g.integers(0, len(images), 128)
        out = model(augment(to_input(images[idx])))
        loss = sum(F.cross_entropy(out[k], torch.from_numpy(ys[k][idx])) for k in HEADS)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0:
            print(f"checker step {step}/{steps} loss {loss.item():.3f} ({time.time() - t0:.0f}s)", flush=True)
    val_images, val_ys = single_shape_set(3000, 999, allow_held_out=True)
    pred = predict(model, val_images)
    acc = {k: float((pred[k] == val_ys[k]).mean()) for k in HEADS}
    print("validation accuracy on fresh renders:", acc)
    (HERE / "checkpoint").mkdir(exist_ok=True)
    torch.save({"state": model.state_dict(), "validation": acc, "validation_images": 3000}, HERE / "checkpoint/checker.pt")
    if min(acc.values()) < 0.98:
        raise SystemExit("checker below 98 % on real renders: not valid")


def load_checker() -> tuple[Checker, dict]:
    ck = torch.load(HERE / "checkpoint/checker.pt", map_location="cpu")
    m = Checker()
    m.load_state_dict(ck["state"])
    return m.eval(), ck["validation"]


def evaluation_prompts(n: int, seed: int, held_out: str | None):
    """Single-shape full captions with their ground truth; held_out selects one held-out combination."""
    rng = random.Random(seed)
    items = []
    while len(items) < n:
        sc = sw.sample_scene(rng, allow_held_out=True, n_shapes=1)
        s = sc.shapes[0]
        if held_out == "colour_kind":
            s.colour, s.kind = sw.HELD_OUT_COLOUR_KIND
            if sw.SOLID_BACKGROUNDS.get(sc.background) == sw.SHAPE_COLOURS[s.colour]:
                continue
        elif held_out == "kind_position":
            s.kind, s.position = sw.HELD_OUT_KIND_POSITION
        elif sw.is_held_out(s):
            continue
        items.append((sw.caption_scene(rng, sc, full=True), labels(sc)))
    return items


def vae_round_trip(checker: Checker, model, n: int) -> dict:
    """The checker on renders passed through the model's VAE: the most the UNet's images can score."""
    images, ys = single_shape_set(n, 4242, allow_held_out=False)
    with torch.no_grad():
        rec = torch.cat([model.dec(model.enc(to_input(images[i:i + 200]).to(model.device))[0]).cpu()
                         for i in range(0, n, 200)])
    rec = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    pred = predict(checker, rec)
    return {"images": n, "accuracy": {k: float((pred[k] == ys[k]).mean()) for k in HEADS}}


def evaluate(args) -> None:
    import reference
    checker, validation = load_checker()
    model = reference.ReferenceModel(args.model, args.checkpoint, args.device)
    recommended = model.info.get("recommended", {})
    args.sampler = args.sampler or recommended.get("sampler", "dpmpp_2m")
    args.karras = recommended.get("karras", False) if args.karras is None else args.karras
    report = {"checker_validation_accuracy": validation, "sampler": args.sampler, "karras": args.karras, "steps": args.steps,
              "guidance": args.guidance, "sets": {}}
    report["vae_round_trip"] = vae_round_trip(checker, model, args.n_vae)
    print("vae round trip", report["vae_round_trip"]["accuracy"], flush=True)
    for name, held, n in [("in_distribution", None, args.n), ("held_out_purple_star", "colour_kind", args.n_held),
                          ("held_out_triangle_bottom_right", "kind_position", args.n_held)]:
        items = evaluation_prompts(n, {"in_distribution": 5, "held_out_purple_star": 6}.get(name, 7), held)
        imgs = []
        for i in range(0, len(items), args.batch):
            chunk = [p for p, _ in items[i:i + args.batch]]
            _, im = reference.sample(model, chunk, "", args.sampler, args.steps, args.guidance, seed=1000 + i, karras=args.karras)
            imgs.append(im)
        imgs = np.concatenate(imgs)
        pred = predict(checker, imgs)
        acc = {k: float(np.mean([pred[k][j] == items[j][1][k] for j in range(len(items))])) for k in HEADS}
        report["sets"][name] = {"images": len(items), "accuracy": acc}
        print(name, acc, flush=True)
    Path(args.out).write_text(json.dumps(report, indent=2))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--n", type=int, default=16000)
    t.add_argument("--epochs", type=int, default=4)
    e = sub.add_parser("evaluate")
    e.add_argument("--model", required=True)
    e.add_argument("--checkpoint")
    e.add_argument("--out", required=True)
    e.add_argument("--n", type=int, default=240)
    e.add_argument("--n-held", type=int, default=60)
    e.add_argument("--n-vae", type=int, default=1000, help="renders for the VAE round trip")
    e.add_argument("--batch", type=int, default=60)
    e.add_argument("--device", default="cpu", help="where the sampled model runs (cuda on the GPU machine)")
    e.add_argument("--sampler", help="default: the model's recommended sampler")
    e.add_argument("--karras", action=argparse.BooleanOptionalAction, help="Karras sigmas (default: as the model recommends)")
    e.add_argument("--steps", type=int, default=25)
    e.add_argument("--guidance", type=float, default=7.0)
    a = p.parse_args()
    torch.set_num_threads(1 if a.cmd == "train" else 2)  # training ran beside the model's training
    train(a) if a.cmd == "train" else evaluate(a)


if __name__ == "__main__":
    main()
