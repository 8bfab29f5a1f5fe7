"""The procedural, captioned "shapes world": 128x128 scenes rendered deterministically from a seed.

Every scene is a background (solid colour, vertical gradient or sky over grass) and 1-3 shapes, each
with a kind, a colour, a size and a position on a 3x3 grid (with jitter and rotation so seeds matter).
Captions come from a small grammar with paraphrases; 10 % are empty (classifier-free guidance).
Some combinations are held out of training to measure generalisation (see HELD_OUT_*).
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

SIZE = 128
SS = 2  # supersampling factor for anti-aliased edges

SHAPE_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 35), "green": (35, 170, 60), "blue": (35, 75, 225), "yellow": (245, 215, 30),
    "purple": (140, 45, 185), "orange": (250, 135, 20), "white": (245, 245, 245), "black": (20, 20, 20),
}
SOLID_BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (245, 245, 245), "black": (20, 20, 20), "gray": (128, 128, 128), "blue": (35, 75, 225),
    "green": (35, 170, 60), "red": (220, 30, 35), "yellow": (245, 215, 30),
}
# (top colour, bottom colour, horizon fraction or None for a smooth gradient)
SPECIAL_BACKGROUNDS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], float | None]] = {
    "sunset": ((250, 120, 40), (90, 30, 125), None),
    "bluewhite": ((40, 90, 220), (240, 240, 250), None),
    "sky": ((120, 185, 240), (60, 145, 55), 0.62),
}
BACKGROUNDS = list(SOLID_BACKGROUNDS) + list(SPECIAL_BACKGROUNDS)
KINDS = ["circle", "square", "triangle", "star", "heart", "ring"]
SIZES = {"small": 13.0, "large": 26.0}
POSITIONS: dict[str, tuple[float, float]] = {
    "top left": (32, 32), "top": (64, 32), "top right": (96, 32),
    "left": (32, 64), "centre": (64, 64), "right": (96, 64),
    "bottom left": (32, 96), "bottom": (64, 96), "bottom right": (96, 96),
}
POSITION_NAMES = list(POSITIONS)
COLOUR_NAMES = list(SHAPE_COLOURS)

# Held out of training: a colour-shape pair and a shape-position pair.
HELD_OUT_COLOUR_KIND = ("purple", "star")
HELD_OUT_KIND_POSITION = ("triangle", "bottom right")

POSITION_PHRASES = {
    "top left": ["in the top left", "at the top left", "in the upper left corner"],
    "top": ["at the top", "in the top middle", "near the top"],
    "top right": ["in the top right", "at the top right", "in the upper right corner"],
    "left": ["on the left", "at the left", "on the left side"],
    "centre": ["in the centre", "in the middle", "in the center"],
    "right": ["on the right", "at the right", "on the right side"],
    "bottom left": ["in the bottom left", "at the bottom left", "in the lower left corner"],
    "bottom": ["at the bottom", "in the bottom middle", "near the bottom"],
    "bottom right": ["in the bottom right", "at the bottom right", "in the lower right corner"],
}
BACKGROUND_PHRASES = {
    **{c: [f"on a {c} background", f"over a {c} background", f"against a {c} background",
           f"on {c}"] for c in SOLID_BACKGROUNDS},
    "sunset": ["over a sunset gradient", "on a sunset gradient", "against a sunset sky gradient"],
    "bluewhite": ["on a gradient from blue to white", "over a blue to white gradient",
                  "against a gradient from blue to white"],
    "sky": ["under a blue sky above green grass", "in a landscape with sky and grass",
            "over a sky and grass scene"],
}

# how a caption names the background when it leads ("a sunset gradient with a red circle")
LEAD_PHRASES = {"sunset": "a sunset gradient", "bluewhite": "a gradient from blue to white",
                "sky": "a blue sky above green grass"}
# how people are told the backgrounds (model card, the hints of diffusion_gallery.json); only caption words
BACKGROUND_DISPLAY_NAMES = {"sunset": "sunset gradient", "bluewhite": "blue to white gradient", "sky": "sky and grass"}


def lead_phrase(background: str) -> str:
    return LEAD_PHRASES.get(background, f"a {background} background")


@dataclass
class Shape:
    kind: str
    colour: str
    size: str
    position: str
    cx: float
    cy: float
    radius: float
    angle: float


@dataclass
class Scene:
    background: str
    shapes: list[Shape] = field(default_factory=list)
    caption: str = ""


def is_held_out(shape: Shape) -> bool:
    return (shape.colour, shape.kind) == HELD_OUT_COLOUR_KIND or (shape.kind, shape.position) == HELD_OUT_KIND_POSITION


def sample_scene(rng: random.Random, allow_held_out: bool = False, n_shapes: int | None = None) -> Scene:
    """Draws a scene; unless allow_held_out, no shape uses a held-out combination."""
    background = rng.choice(BACKGROUNDS)
    if n_shapes is None:
        n_shapes = rng.choices([1, 2, 3], weights=[0.6, 0.3, 0.1])[0]
    positions = rng.sample(POSITION_NAMES, n_shapes)
    shapes = []
    for pos in positions:
        while True:
            kind = rng.choice(KINDS)
            colour = rng.choice([c for c in COLOUR_NAMES if SHAPE_COLOURS[c] != SOLID_BACKGROUNDS.get(background)])
            size = rng.choice(list(SIZES))
            shape = make_shape(rng, kind, colour, size, pos)
            if allow_held_out or not is_held_out(shape):
                break
        shapes.append(shape)
    return Scene(background, shapes)


def make_shape(rng: random.Random, kind: str, colour: str, size: str, position: str) -> Shape:
    x, y = POSITIONS[position]
    r = SIZES[size] * rng.uniform(0.88, 1.12)
    return Shape(kind, colour, size, position, x + rng.uniform(-5, 5), y + rng.uniform(-5, 5), r,
                 rng.uniform(-18, 18) if kind not in ("circle", "ring") else 0.0)


def describe_shape(rng: random.Random, s: Shape, with_size: bool, with_position: bool) -> str:
    words = []
    if with_size:
        words.append(s.size)
    words += [s.colour, s.kind]
    words.insert(0, "an" if words[0][0] in "aeiou" else "a")
    if with_position:
        words.append(rng.choice(POSITION_PHRASES[s.position]))
    return " ".join(words)


def caption_scene(rng: random.Random, scene: Scene, full: bool = False) -> str:
    with_size = full or rng.random() < 0.7
    with_position = full or rng.random() < 0.9
    parts = [describe_shape(rng, s, with_size, with_position) for s in scene.shapes]
    shapes_text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    bg = rng.choice(BACKGROUND_PHRASES[scene.background])
    if full or rng.random() < 0.75:
        return f"{shapes_text} {bg}"
    return f"{lead_phrase(scene.background)} with {shapes_text}"


def _polygon(kind: str, r: float) -> list[tuple[float, float]]:
    if kind == "square":
        s = r * 0.85
        return [(-s, -s), (s, -s), (s, s), (-s, s)]
    if kind == "triangle":
        return [(r * math.cos(a), r * math.sin(a) + r * 0.15) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    if kind == "star":
        pts = []
        for i in range(10):
            a = -math.pi / 2 + i * math.pi / 5
            rr = r * 1.05 if i % 2 == 0 else r * 0.45
            pts.append((rr * math.cos(a), rr * math.sin(a) + r * 0.05))
        return pts
    if kind == "heart":
        pts = []
        for i in range(48):
            t = 2 * math.pi * i / 48
            x = 16 * math.sin(t) ** 3
            y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
            pts.append((x * r / 16.5, -y * r / 16.5 - r * 0.1))
        return pts
    raise ValueError(kind)


def shape_mask(s: Shape) -> np.ndarray:
    """Anti-aliased coverage mask (float32, 0..1) of one shape."""
    n = SIZE * SS
    img = Image.new("L", (n, n), 0)
    d = ImageDraw.Draw(img)
    cx, cy, r = s.cx * SS, s.cy * SS, s.radius * SS
    if s.kind == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif s.kind == "ring":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        ri = r * 0.55
        d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=0)
    else:
        a = math.radians(s.angle)
        ca, sa = math.cos(a), math.sin(a)
        pts = [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in _polygon(s.kind, r)]
        d.polygon(pts, fill=255)
    img = img.resize((SIZE, SIZE), Image.BOX)
    return np.asarray(img, dtype=np.float32) / 255.0


def background_image(name: str) -> np.ndarray:
    if name in SOLID_BACKGROUNDS:
        return np.broadcast_to(np.array(SOLID_BACKGROUNDS[name], np.float32), (SIZE, SIZE, 3)).copy()
    top, bottom, horizon = SPECIAL_BACKGROUNDS[name]
    t = (np.arange(SIZE, dtype=np.float32) + 0.5) / SIZE
    if horizon is not None:
        t = (t >= horizon).astype(np.float32)
    col = np.array(top, np.float32)[None] * (1 - t[:, None]) + np.array(bottom, np.float32)[None] * t[:, None]
    return np.broadcast_to(col[:, None, :], (SIZE, SIZE, 3)).copy()


def render(scene: Scene) -> np.ndarray:
    """uint8 HxWx3 image of the scene."""
    img = background_image(scene.background)
    for s in scene.shapes:
        m = shape_mask(s)[..., None]
        img = img * (1 - m) + np.array(SHAPE_COLOURS[s.colour], np.float32) * m
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def make_dataset(n: int, seed: int, empty_fraction: float = 0.1, allow_held_out: bool = False):
    """Returns (images uint8 [n,128,128,3], captions list[str], scenes list[Scene])."""
    rng = random.Random(seed)
    images = np.empty((n, SIZE, SIZE, 3), np.uint8)
    captions, scenes = [], []
    for i in range(n):
        scene = sample_scene(rng, allow_held_out)
        scene.caption = "" if rng.random() < empty_fraction else caption_scene(rng, scene)
        images[i] = render(scene)
        captions.append(scene.caption)
        scenes.append(scene)
    return images, captions, scenes


def vocabulary_words() -> set[str]:
    words: set[str] = set()
    for phrases in list(POSITION_PHRASES.values()) + list(BACKGROUND_PHRASES.values()):
        for p in phrases:
            words.update(p.split())
    words.update(KINDS + COLOUR_NAMES + list(SIZES) + BACKGROUNDS)
    words.update("a an and with gradient from to sunset sky above green grass blue white background".split())
    words.update(["two", "three", "shape", "shapes", "of", "the", "in", "on", "over", "picture", "image"])
    return words


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def caption_vocabulary() -> dict[str, list[str]]:
    """The words the caption grammar can produce (what the model was taught), with its content words by kind.

    Unlike vocabulary_words() (the tokenizer's word list, which has a few words no caption uses), this is what
    the model knows: the generate page and the API mark prompt words outside "words". Category entries may be
    phrases ("top left"); all their words are in "words". check_caption_vocabulary() proves it against captions.
    """
    phrases = [p for ps in POSITION_PHRASES.values() for p in ps]
    phrases += [p for ps in BACKGROUND_PHRASES.values() for p in ps]
    phrases += [lead_phrase(b) for b in BACKGROUNDS]
    phrases += KINDS + COLOUR_NAMES + list(SIZES)
    phrases += ["a", "an", "and", "with"]  # describe_shape's articles, caption_scene's list and lead joiners
    colours = COLOUR_NAMES + [c for c in SOLID_BACKGROUNDS if c not in SHAPE_COLOURS]
    backgrounds = list(SOLID_BACKGROUNDS) + [BACKGROUND_DISPLAY_NAMES[b] for b in SPECIAL_BACKGROUNDS]
    vocabulary = {
        "words": sorted({w for p in phrases for w in _words(p)}),
        "colours": colours,
        "kinds": list(KINDS),
        "sizes": list(SIZES),
        "positions": list(POSITION_NAMES),
        "backgrounds": backgrounds,
    }
    known = set(vocabulary["words"])
    for key, entries in vocabulary.items():
        missing = [w for e in entries for w in _words(e) if w not in known]
        assert not missing, f"vocabulary {key} uses words no caption has: {missing}"
    return vocabulary


def check_caption_vocabulary(n: int = 20000, seed: int = 5) -> int:
    """Samples captions and checks that they use exactly caption_vocabulary()'s words; returns the word count."""
    words = set(caption_vocabulary()["words"])
    rng = random.Random(seed)
    seen: set[str] = set()
    for i in range(n):
        scene = sample_scene(rng, allow_held_out=True)
        seen.update(_words(caption_scene(rng, scene, full=i % 4 == 0)))
    assert seen <= words, f"captions use words missing from the vocabulary: {sorted(seen - words)}"
    assert words <= seen, f"the vocabulary has words no sampled caption used: {sorted(words - seen)}"
    return len(words)


if __name__ == "__main__":
    import sys
    rng = random.Random(0)
    for _ in range(8):
        sc = sample_scene(rng)
        print(caption_scene(rng, sc))
    imgs, caps, _ = make_dataset(16, 1)
    grid = np.concatenate([np.concatenate(list(imgs[r * 4:(r + 1) * 4]), axis=1) for r in range(4)], axis=0)
    Image.fromarray(grid).save(sys.argv[1] if len(sys.argv) > 1 else "/tmp/shapes_grid.png")
    print(caps)
