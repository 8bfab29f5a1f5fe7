"""Prompt-adherence checker (v2): a small CNN trained on the procedural ground truth of the shapes world.

It reads an image (any size: resized to 128x128) and predicts the background and a 3x3 occupancy grid: for each
cell whether a shape is centred there and, if so, its colour and kind. Object count (occupied cells), positions
and two-object relations follow from the grid. It is validated on fresh renders first (each head >= 98 %), then
scores generated images at 128x128 and 256x256.

    python3 checker.py train [--device cuda]        # trains and validates, writes checkpoint/checker.pt
    python3 checker.py evaluate --model ../../models/tiny-shapes --out ../../docs/adherence.json [--sizes 128,256]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

import shapes_world as sw

HERE = Path(__file__).resolve().parent
INPUT = 128
CELLS = len(sw.POSITION_NAMES)
NC, NK = len(sw.COLOUR_NAMES), len(sw.KINDS)
HEADS = ["background", "cells", "colour", "kind", "count"]  # validation heads (cells: the whole 3x3 occupancy right)


class Checker(nn.Module):
    def __init__(self):
        super().__init__()

        def blk(a, b, convs=2):
            layers = [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
            if convs == 2:
                layers += [nn.Conv2d(b, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
            return nn.Sequential(*layers, nn.MaxPool2d(2))
        self.body = nn.Sequential(blk(3, 32, 1), blk(32, 64), blk(64, 96), blk(96, 128), blk(128, 128))  # 128 -> 4
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(128 * 4 * 4, 512), nn.ReLU())
        self.background = nn.Linear(512, len(sw.BACKGROUNDS))
        self.cells = nn.Linear(512, CELLS * (1 + NC + NK))

    def forward(self, x):
        f = self.fc(self.body(x))
        c = self.cells(f).reshape(-1, CELLS, 1 + NC + NK)
        return {"background": self.background(f), "occupied": c[..., 0], "colour": c[..., 1:1 + NC], "kind": c[..., 1 + NC:]}


def labels(scene: sw.Scene) -> dict[str, np.ndarray]:
    occ, colour, kind = np.zeros(CELLS, np.float32), np.full(CELLS, -100, np.int64), np.full(CELLS, -100, np.int64)
    for s in scene.shapes:
        i = sw.POSITION_NAMES.index(s.position)
        occ[i], colour[i], kind[i] = 1, sw.COLOUR_NAMES.index(s.colour), sw.KINDS.index(s.kind)
    return {"background": np.int64(sw.BACKGROUNDS.index(scene.background)), "occupied": occ, "colour": colour, "kind": kind}


def to_checker_size(image: np.ndarray) -> np.ndarray:
    """Any size to INPUT x INPUT (box filter), as generated images of other sizes are scored."""
    if image.shape[:2] == (INPUT, INPUT):
        return image
    return np.asarray(Image.fromarray(image).resize((INPUT, INPUT), Image.BOX))


def _render_job(job):
    seed, n, allow_held_out = job
    rng = random.Random(seed)
    images = np.empty((n, INPUT, INPUT, 3), np.uint8)
    ys = {k: [] for k in ("background", "occupied", "colour", "kind")}
    for i in range(n):
        sc = sw.sample_scene(rng, allow_held_out=allow_held_out)
        size = rng.choice([128, 128, 128, 256])  # a share rendered at 256x256 and box-resized, as evaluation does
        images[i] = to_checker_size(sw.render(sc, size, size))
        for k, v in labels(sc).items():
            ys[k].append(v)
    return images, {k: np.stack(v) for k, v in ys.items()}


def scene_set(n: int, seed: int, allow_held_out: bool = True, processes: int = 1):
    jobs = [(seed * 100_003 + k, min(2000, n - s), allow_held_out) for k, s in enumerate(range(0, n, 2000))]
    if processes > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_render_job, jobs)
    else:
        parts = [_render_job(j) for j in jobs]
    return np.concatenate([p[0] for p in parts]), {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}


def to_input(images: np.ndarray, device: str = "cpu") -> torch.Tensor:
    return torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1


def augment(x: torch.Tensor) -> torch.Tensor:
    """Robustness to the artefacts of generated images: noise, blur, slight colour shifts."""
    b = x.shape[0]
    x = x * (1 + 0.06 * (torch.rand(b, 3, 1, 1, device=x.device) - 0.5)) + 0.06 * (torch.rand(b, 3, 1, 1, device=x.device) - 0.5)
    if random.random() < 0.5:
        x = F.avg_pool2d(x, 3, 1, 1)
    return x + 0.04 * torch.randn_like(x)


def predict(model: Checker, images: np.ndarray, device: str = "cpu") -> dict[str, np.ndarray]:
    """background [N], occupied bool [N,9], occupied logits [N,9], colour [N,9], kind [N,9] (per cell)."""
    model.eval()
    out = {k: [] for k in ("background", "occupied", "occ_logit", "colour", "kind")}
    with torch.no_grad():
        for i in range(0, len(images), 256):
            chunk = np.stack([to_checker_size(im) for im in images[i:i + 256]])
            o = model(to_input(chunk, device))
            out["background"].append(o["background"].argmax(1).cpu().numpy())
            out["occupied"].append((o["occupied"] > 0).cpu().numpy())
            out["occ_logit"].append(o["occupied"].cpu().numpy())
            out["colour"].append(o["colour"].argmax(-1).cpu().numpy())
            out["kind"].append(o["kind"].argmax(-1).cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def head_accuracy(pred: dict, ys: dict) -> dict[str, float]:
    occ = ys["occupied"] > 0
    return {"background": float((pred["background"] == ys["background"]).mean()),
            "cells": float((pred["occupied"] == occ).all(1).mean()),
            "colour": float((pred["colour"] == ys["colour"])[occ].mean()),
            "kind": float((pred["kind"] == ys["kind"])[occ].mean()),
            "count": float((pred["occupied"].sum(1) == occ.sum(1)).mean())}


def train(args) -> None:
    torch.manual_seed(0)
    device = args.device
    t0 = time.time()
    images, ys = scene_set(args.n, 11, processes=args.processes)
    print(f"checker: rendered {len(images)} scenes in {time.time() - t0:.0f} s", flush=True)
    x_all = torch.from_numpy(images).to(device)
    y_all = {k: torch.from_numpy(v).to(device) for k, v in ys.items()}
    model = Checker().to(device)
    opt = torch.optim.AdamW(model.parameters(), 2e-3, weight_decay=1e-4)
    steps = max(1, args.epochs * len(images) // args.batch)
    cap = args.max_minutes * 60 if args.max_minutes else None
    t1 = time.time()
    g = torch.Generator(device=device).manual_seed(0)
    for step in range(steps):
        frac = step / steps if not cap else max(step / steps, (time.time() - t1) / cap)
        if frac >= 1:
            print(f"checker: {step} of {steps} steps in {time.time() - t1:.0f} s", flush=True)
            break
        for group in opt.param_groups:  # warm-up, then cosine; follows whichever ends first, steps or time
            group["lr"] = 2e-3 * (frac / 0.05 if frac < 0.05 else 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (frac - 0.05) / 0.95)))
        model.train()
        idx = torch.randint(0, len(images), (args.batch,), device=device, generator=g)
        x = x_all[idx].permute(0, 3, 1, 2).float() / 127.5 - 1
        with (torch.autocast(device_type="cuda", dtype=torch.bfloat16) if device == "cuda" else contextlib.nullcontext()):
            out = model(augment(x))
        y = {k: v[idx] for k, v in y_all.items()}
        loss = (F.cross_entropy(out["background"].float(), y["background"])
                + F.binary_cross_entropy_with_logits(out["occupied"].float(), y["occupied"]) * 3
                + F.cross_entropy(out["colour"].float().reshape(-1, NC), y["colour"].reshape(-1), ignore_index=-100)
                + F.cross_entropy(out["kind"].float().reshape(-1, NK), y["kind"].reshape(-1), ignore_index=-100))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 200 == 0:
            print(f"checker step {step}/{steps} loss {loss.item():.3f} ({time.time() - t0:.0f}s)", flush=True)
    val_images, val_ys = scene_set(args.n_val, 999, processes=args.processes)
    acc = head_accuracy(predict(model, val_images, device), val_ys)
    print(f"checker validation accuracy on {len(val_images)} fresh renders:", acc, f"({time.time() - t0:.0f}s)", flush=True)
    out_path = Path(args.out) if args.out else HERE / "checkpoint/checker.pt"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state": {k: v.cpu() for k, v in model.state_dict().items()}, "validation": acc,
                "validation_images": len(val_images), "version": 2}, out_path)
    if min(acc.values()) < 0.98:
        raise SystemExit("checker below 98 % on real renders: not valid")


def load_checker(path: str | Path | None = None, device: str = "cpu") -> tuple[Checker, dict]:
    ck = torch.load(path or HERE / "checkpoint/checker.pt", map_location="cpu")
    m = Checker()
    m.load_state_dict(ck["state"])
    return m.to(device).eval(), ck["validation"]


# ---------------------------------------------------------------- evaluation


def _single(rng, held_out: str | None):
    while True:
        if held_out == "colour_background":
            colour, bg = sw.HELD_OUT_COLOUR_BACKGROUND
            sc = sw.sample_scene(rng, allow_held_out=True, n_shapes=1, background=bg)
            sc.shapes[0].colour = colour
        else:
            sc = sw.sample_scene(rng, allow_held_out=True, n_shapes=1)
            s = sc.shapes[0]
            if held_out == "colour_kind":
                s.colour, s.kind = sw.HELD_OUT_COLOUR_KIND
                if s.colour == sc.background:
                    continue
            elif held_out == "kind_position":
                s.kind, s.position = sw.HELD_OUT_KIND_POSITION
            elif sw.is_held_out(sc):
                continue
        return sc


def evaluation_prompts(kind: str, n: int, seed: int) -> list[tuple[str, sw.Scene]]:
    """(caption, ground-truth scene) pairs: single (full captions), count (1-3), relation, or a held-out set."""
    rng = random.Random(seed)
    items = []
    while len(items) < n:
        if kind == "count":
            k = 1 + len(items) % 3
            sc = sw.sample_scene(rng, n_shapes=k, layout="count" if k > 1 else "single")
            s = sc.shapes[0]
            word = ("an" if s.size[0] in "aeiou" else "a") if k == 1 else rng.choice(sw.COUNT_WORDS[k])
            text = f"{word} {s.size} {s.colour} {sw.kind_word(rng, s.kind, plural=k > 1)} {sw.background_phrase(rng, sc.background)}"
        elif kind == "relation":
            sc = sw.sample_scene(rng, layout="relation")
            text = sw.caption_scene(rng, sc, full=True)
        else:
            sc = _single(rng, None if kind == "single" else kind)
            text = sw.caption_scene(rng, sc, full=True)
        items.append((text, sc))
    return items


def score(pred: dict, j: int, sc: sw.Scene, kind: str) -> dict[str, float]:
    occ = pred["occupied"][j]
    r = {"background": float(pred["background"][j] == sw.BACKGROUNDS.index(sc.background)),
         "count": float(occ.sum() == len(sc.shapes))}
    cell_of = lambda s: sw.POSITION_NAMES.index(s.position)  # noqa: E731
    if kind == "count" or kind == "relation":
        found = [i for i in range(CELLS) if occ[i]]
        objs = {(int(pred["colour"][j][i]), int(pred["kind"][j][i])): [] for i in found}
        for i in found:
            objs[(int(pred["colour"][j][i]), int(pred["kind"][j][i]))].append(i)
        want = [(sw.COLOUR_NAMES.index(s.colour), sw.KINDS.index(s.kind)) for s in sc.shapes]
        if found:
            r["colour"] = float(np.mean([pred["colour"][j][i] in [w[0] for w in want] for i in found]))
            r["kind"] = float(np.mean([pred["kind"][j][i] in [w[1] for w in want] for i in found]))
        else:
            r["colour"] = r["kind"] = 0.0
        if kind == "relation":
            a, b = objs.get(want[0], []), objs.get(want[1], [])
            r["relation"] = float(any(sw.relation_holds(sc.relation, sw.POSITION_NAMES[x], sw.POSITION_NAMES[y])
                                      for x in a for y in b if x != y))
        return r
    s = sc.shapes[0]
    p = cell_of(s)
    cell = p if occ[p] else int(pred["occ_logit"][j].argmax())
    r.update({"colour": float(pred["colour"][j][cell] == sw.COLOUR_NAMES.index(s.colour)),
              "kind": float(pred["kind"][j][cell] == sw.KINDS.index(s.kind)), "position": float(occ[p])})
    return r


def vae_round_trip(checker: Checker, model, n: int, size: int, device: str) -> dict:
    """The checker on renders passed through the model's VAE: the most the UNet's images can score."""
    rng = random.Random(4242 + size)
    scenes = [sw.sample_scene(rng) for _ in range(n)]
    images = np.stack([sw.render(sc, size, size) for sc in scenes])
    with torch.no_grad():
        rec = torch.cat([model.dec(model.enc(to_input(images[i:i + 100], model.device))[0]).cpu()
                         for i in range(0, n, 100)])
    rec = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    ys = {k: np.stack([labels(sc)[k] for sc in scenes]) for k in ("background", "occupied", "colour", "kind")}
    clean = head_accuracy(predict(checker, images, device), ys)
    return {"images": n, "size": size, "accuracy": head_accuracy(predict(checker, rec, device), ys),
            "accuracy_on_the_renders_themselves": clean}


def diversity(model, checker, prompts: list[str], size: int, args) -> list[dict]:
    """The same prompt over 8 seeds: distinct cells, spread of centre and size, and how alike the shapes' masks
    are once centred (1.0: the same picture eight times; lower: rotation/size/kind outline vary)."""
    out = []
    for k, prompt in enumerate(prompts):
        _, imgs = reference_sample(model, [prompt] * 8, args, seed=500 + 10 * k, size=size)
        pred = predict(checker, imgs, args.device)
        bg = np.median(imgs.reshape(8, -1, 3), axis=1)  # the dominant colour of each picture
        masks, cx, cy, rad = [], [], [], []
        for im, b in zip(imgs, bg):
            m = np.abs(im.astype(np.float32) - b[None, None]).max(-1) > 60
            ys, xs = np.nonzero(m)
            if len(xs) == 0:
                continue
            cx.append(xs.mean() / size)
            cy.append(ys.mean() / size)
            rad.append(np.sqrt(len(xs) / np.pi) / size)
            c = np.zeros((size, size), bool)
            sy, sx = int(round(ys.mean())), int(round(xs.mean()))
            c[np.clip(ys - sy + size // 2, 0, size - 1), np.clip(xs - sx + size // 2, 0, size - 1)] = True
            masks.append(c)
        ious = [float((a & b).sum() / max(1, (a | b).sum())) for i, a in enumerate(masks) for b in masks[i + 1:]]
        cells = {tuple(np.nonzero(o)[0]) for o in pred["occupied"]}
        out.append({"prompt": prompt, "size": size, "seeds": 8, "distinct_cell_sets": len(cells),
                    "centre_std": [float(np.std(cx)) if cx else 0.0, float(np.std(cy)) if cy else 0.0],
                    "radius_std": float(np.std(rad)) if rad else 0.0,
                    "centred_mask_mean_iou": float(np.mean(ious)) if ious else 1.0})
    return out


def reference_sample(model, prompts, args, seed, size):
    import reference
    return reference.sample(model, prompts, "", args.sampler, args.steps, args.guidance, seed=seed, karras=args.karras,
                            width=size, height=size)


SETS = [("single", "single", 5), ("count", "count", 8), ("relation", "relation", 9),
        ("held_out_purple_star", "colour_kind", 6), ("held_out_triangle_bottom_right", "kind_position", 7),
        ("held_out_yellow_on_blue", "colour_background", 10)]
DIVERSITY_PROMPTS = ["a large red star on a white background", "a small blue triangle in the top left on a yellow background",
                     "two green hearts on a black background"]


def evaluate(args) -> None:
    import reference
    checker, validation = load_checker(args.checker, args.device)
    model = reference.ReferenceModel(args.model, args.checkpoint, args.device)
    recommended = model.info.get("recommended", {})
    args.sampler = args.sampler or recommended.get("sampler", "dpmpp_2m")
    args.karras = recommended.get("karras", False) if args.karras is None else args.karras
    report = {"checker_validation_accuracy": validation, "sampler": args.sampler, "karras": args.karras, "steps": args.steps,
              "guidance": args.guidance, "held_out": {"colour_kind": sw.HELD_OUT_COLOUR_KIND,
                                                      "kind_position": sw.HELD_OUT_KIND_POSITION,
                                                      "colour_background": sw.HELD_OUT_COLOUR_BACKGROUND},
              "table": {}, "sets": {}, "vae_round_trip": {}, "seed_diversity": []}
    out = Path(args.out)

    def save():
        out.write_text(json.dumps(report, indent=2))

    t0 = time.time()
    for size in args.sizes:
        report["vae_round_trip"][str(size)] = vae_round_trip(checker, model, args.n_vae, size, args.device)
        print(f"vae round trip {size}", report["vae_round_trip"][str(size)]["accuracy"], f"({time.time() - t0:.0f}s)", flush=True)
        save()
    for size in args.sizes:
        for name, kind, seed in SETS:
            n = args.n if not name.startswith("held_out") else args.n_held
            items = evaluation_prompts(kind, n, seed)
            imgs = np.concatenate([reference_sample(model, [p for p, _ in items[i:i + args.batch]], args, 1000 + i, size)[1]
                                   for i in range(0, len(items), args.batch)])
            pred = predict(checker, imgs, args.device)
            scores = [score(pred, j, sc, kind) for j, (_, sc) in enumerate(items)]
            acc = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
            report["sets"].setdefault(str(size), {})[name] = {"images": len(items), "accuracy": acc,
                                                              "examples": [p for p, _ in items[:3]]}
            print(size, name, {k: round(v, 3) for k, v in acc.items()}, f"({time.time() - t0:.0f}s)", flush=True)
            save()
        s = report["sets"][str(size)]
        report["table"][str(size)] = {
            "background": s["single"]["accuracy"]["background"], "shape colour": s["single"]["accuracy"]["colour"],
            "shape kind": s["single"]["accuracy"]["kind"], "position": s["single"]["accuracy"]["position"],
            "count exactly": s["count"]["accuracy"]["count"], "relation": s["relation"]["accuracy"]["relation"]}
        report["seed_diversity"] += diversity(model, checker, DIVERSITY_PROMPTS, size, args)
        save()
    print(json.dumps(report["table"], indent=1))
    print(f"evaluated in {time.time() - t0:.0f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--n", type=int, default=60000, help="training renders")
    t.add_argument("--n-val", type=int, default=3000)
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--batch", type=int, default=256)
    t.add_argument("--max-minutes", type=float, default=2.2, help="training time cap, rendering not counted (0: none)")
    t.add_argument("--processes", type=int, default=4)
    t.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    t.add_argument("--out", help="default: checkpoint/checker.pt")
    e = sub.add_parser("evaluate")
    e.add_argument("--model", required=True)
    e.add_argument("--checkpoint")
    e.add_argument("--checker", help="default: checkpoint/checker.pt")
    e.add_argument("--out", required=True)
    e.add_argument("--sizes", type=lambda v: [int(s) for s in v.split(",")], default=[128, 256])
    e.add_argument("--n", type=int, default=180, help="prompts per set (single, count, relation)")
    e.add_argument("--n-held", type=int, default=60)
    e.add_argument("--n-vae", type=int, default=400, help="renders for the VAE round trip, per size")
    e.add_argument("--batch", type=int, default=60)
    e.add_argument("--device", default="cpu", help="where the sampled model and the checker run (cuda on the GPU machine)")
    e.add_argument("--sampler", help="default: the model's recommended sampler")
    e.add_argument("--karras", action=argparse.BooleanOptionalAction, help="Karras sigmas (default: as the model recommends)")
    e.add_argument("--steps", type=int, default=25)
    e.add_argument("--guidance", type=float, default=7.0)
    a = p.parse_args()
    if a.device == "cpu":
        torch.set_num_threads(2)
    train(a) if a.cmd == "train" else evaluate(a)


if __name__ == "__main__":
    main()
