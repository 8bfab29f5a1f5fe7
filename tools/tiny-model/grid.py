"""A labelled grid of samples (prompts x seeds) for the model card.

    python3 grid.py --model ../../models/tiny-shapes --out ../../docs/model-samples.png
"""
from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

import reference
from export import EXAMPLE_PROMPTS

PROMPTS = EXAMPLE_PROMPTS + [
    "a large purple star in the centre on a yellow background   (held out: purple star)",
    "a large black triangle in the bottom right on a gray background   (held out: triangle bottom right)",
    "a large yellow circle on a blue background   (held out: yellow on blue)",
]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--checkpoint")
    p.add_argument("--out", required=True)
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--size", type=int, default=128, help="width and height of the samples (e.g. 256)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--sampler", help="default: the model's recommended sampler (and its Karras choice)")
    a = p.parse_args()
    model = reference.ReferenceModel(a.model, a.checkpoint, a.device)
    recommended = model.info.get("recommended", {})
    karras = recommended.get("karras", False) if a.sampler is None else False
    a.sampler = a.sampler or recommended.get("sampler", "dpmpp_2m")
    rows = []
    for prompt in PROMPTS:
        text = prompt.split("   (")[0]
        _, imgs = reference.sample(model, [text] * a.seeds, "", a.sampler, a.steps, 7.0, seed=0, karras=karras,
                                   width=a.size, height=a.size)
        rows.append((prompt, np.concatenate(list(imgs), axis=1)))
    cell, label_h, pad = a.size, 18, 4
    w = cell * a.seeds
    canvas = Image.new("RGB", (w + 2 * pad, len(rows) * (cell + label_h + pad) + pad), (255, 255, 255))
    d = ImageDraw.Draw(canvas)
    y = pad
    for prompt, strip in rows:
        d.text((pad, y + 3), prompt, fill=(0, 0, 0))
        canvas.paste(Image.fromarray(strip), (pad, y + label_h))
        y += cell + label_h + pad
    canvas.save(a.out)
    print(f"wrote {a.out}: {len(rows)} prompts x {a.seeds} seeds ({a.sampler}{' Karras' if karras else ''}, {a.steps} steps, CFG 7)")


if __name__ == "__main__":
    main()
