"""The procedural, captioned "shapes world" (v2): scenes rendered deterministically from a seed, at any size.

A scene is a background (12 solid colours, two gradients, sky over grass) and 1-3 shapes of 10 kinds x 12
colours x 2 sizes, each centred on a cell of a 3x3 grid with jitter and rotation. Everything is relative to
the image (positions as fractions of width and height, sizes as fractions of the shorter side), so a scene
renders at 128x128, 256x256, 96x128 or 128x96 alike and a 256x256 "large red circle" is one large circle.

Scene layouts and their captions (a grammar with paraphrases; 10 % of training captions are empty):
  single    "a large red circle in the top left on a white background"
  count     "two red circles on a white background", "three small stars ...", "a pair of ..."
  relation  "a red circle above a blue square on a white background" (above, below, left of, right of, next to;
            the layout satisfies the relation)
  mixed     "a red circle in the top left and a blue square at the bottom over a sunset gradient"
Some combinations are held out of training to measure generalisation (HELD_OUT_*).
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

SIZE = 128  # the native size
SS = 2  # supersampling factor for anti-aliased edges

SHAPE_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 35), "orange": (250, 135, 20), "yellow": (245, 215, 30), "green": (35, 170, 60),
    "blue": (35, 75, 225), "purple": (140, 45, 185), "pink": (250, 120, 190), "brown": (125, 75, 35),
    "black": (20, 20, 20), "white": (245, 245, 245), "gray": (128, 128, 128), "cyan": (30, 210, 230),
}
SOLID_BACKGROUNDS = dict(SHAPE_COLOURS)
COLOUR_SYNONYMS = {"purple": ["purple", "purple", "violet"], "gray": ["gray", "grey"]}
# (top colour, bottom colour, horizon fraction or None for a smooth gradient)
SPECIAL_BACKGROUNDS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], float | None]] = {
    "sunset": ((250, 120, 40), (90, 30, 125), None),
    "bluewhite": ((40, 90, 220), (240, 240, 250), None),
    "sky": ((120, 185, 240), (60, 145, 55), 0.62),
}
BACKGROUNDS = list(SOLID_BACKGROUNDS) + list(SPECIAL_BACKGROUNDS)
KINDS = ["circle", "square", "triangle", "star", "heart", "ring", "diamond", "hexagon", "cross", "crescent"]
KIND_SYNONYMS = {"crescent": ["crescent", "moon"]}
PLURALS = {"cross": "crosses"}
SIZES = {"small": 0.12, "large": 0.215}  # radius as a fraction of the shorter side
CELLS: dict[str, tuple[int, int]] = {  # (column, row) on the 3x3 grid
    "top left": (0, 0), "top": (1, 0), "top right": (2, 0),
    "left": (0, 1), "centre": (1, 1), "right": (2, 1),
    "bottom left": (0, 2), "bottom": (1, 2), "bottom right": (2, 2),
}
POSITION_NAMES = list(CELLS)
COLOUR_NAMES = list(SHAPE_COLOURS)
FRACTIONS = (0.25, 0.5, 0.75)
LAYOUTS = {"single": 0.42, "count": 0.2, "relation": 0.23, "mixed": 0.15}
RELATIONS = ["above", "below", "left of", "right of", "next to"]
RELATION_PHRASES = {"above": ["above"], "below": ["below", "under", "beneath"], "left of": ["to the left of", "left of"],
                    "right of": ["to the right of", "right of"], "next to": ["next to", "beside"]}
COUNT_WORDS = {1: ["a", "one"], 2: ["two", "a pair of"], 3: ["three"]}

# Held out of training: a colour-shape pair, a shape-position pair and a shape colour on a background.
HELD_OUT_COLOUR_KIND = ("purple", "star")
HELD_OUT_KIND_POSITION = ("triangle", "bottom right")
HELD_OUT_COLOUR_BACKGROUND = ("yellow", "blue")  # a yellow shape on a blue background

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
    **{c: [f"on {a} {c} background", f"over {a} {c} background", f"against {a} {c} background", f"on {c}"]
       for c in SOLID_BACKGROUNDS for a in ["an" if c[0] in "aeiou" else "a"]},
    "sunset": ["over a sunset gradient", "on a sunset gradient", "against a sunset sky gradient"],
    "bluewhite": ["on a gradient from blue to white", "over a blue to white gradient",
                  "against a gradient from blue to white"],
    "sky": ["under a blue sky above green grass", "in a landscape with sky and grass",
            "over a sky and grass scene"],
}
LEAD_PHRASES = {"sunset": "a sunset gradient", "bluewhite": "a gradient from blue to white",
                "sky": "a blue sky above green grass"}
BACKGROUND_DISPLAY_NAMES = {"sunset": "sunset gradient", "bluewhite": "blue to white gradient", "sky": "sky and grass"}


def colour_word(rng: random.Random, colour: str) -> str:
    return rng.choice(COLOUR_SYNONYMS.get(colour, [colour]))


def kind_word(rng: random.Random, kind: str, plural: bool = False) -> str:
    w = rng.choice(KIND_SYNONYMS.get(kind, [kind]))
    return PLURALS.get(w, w + "s") if plural else w


def lead_phrase(background: str, rng: random.Random | None = None) -> str:
    if background in LEAD_PHRASES:
        return LEAD_PHRASES[background]
    word = colour_word(rng, background) if rng else background
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word} background"


def background_phrase(rng: random.Random, background: str) -> str:
    phrase = rng.choice(BACKGROUND_PHRASES[background])
    if background in COLOUR_SYNONYMS:
        phrase = phrase.replace(background, colour_word(rng, background))
    return phrase


@dataclass
class Shape:
    kind: str
    colour: str
    size: str
    position: str  # the grid cell
    fx: float  # centre, fraction of the width
    fy: float  # centre, fraction of the height
    radius: float  # fraction of the shorter side
    angle: float


@dataclass
class Scene:
    background: str
    shapes: list[Shape] = field(default_factory=list)
    caption: str = ""
    layout: str = "single"
    relation: str | None = None  # for "relation": shapes[0] <relation> shapes[1]


def is_held_out_shape(shape: Shape, background: str) -> bool:
    return ((shape.colour, shape.kind) == HELD_OUT_COLOUR_KIND or (shape.kind, shape.position) == HELD_OUT_KIND_POSITION
            or (shape.colour, background) == HELD_OUT_COLOUR_BACKGROUND)


def is_held_out(scene: Scene) -> bool:
    return any(is_held_out_shape(s, scene.background) for s in scene.shapes)


def make_shape(rng: random.Random, kind: str, colour: str, size: str, position: str, tight: bool = False) -> Shape:
    """tight: a shape with a neighbour in an adjacent cell (less jitter, a little smaller, so they never overlap)."""
    c, r = CELLS[position]
    j, scale = (0.02, rng.uniform(0.8, 0.86)) if tight else (0.04, rng.uniform(0.9, 1.1))
    return Shape(kind, colour, size, position, FRACTIONS[c] + rng.uniform(-j, j), FRACTIONS[r] + rng.uniform(-j, j),
                 SIZES[size] * scale, rng.uniform(-18, 18) if kind not in ("circle", "ring") else 0.0)


def crowded(cell: str, cells: list[str]) -> bool:
    """Whether another of the cells is next to this one (also diagonally): then only small shapes fit."""
    c, r = CELLS[cell]
    return any(o != cell and max(abs(CELLS[o][0] - c), abs(CELLS[o][1] - r)) <= 1 for o in cells)


def cell_name(col: int, row: int) -> str:
    return next(n for n, cr in CELLS.items() if cr == (col, row))


def relation_cells(rng: random.Random, relation: str) -> tuple[str, str]:
    """Two grid cells (first, second) such that `first <relation> second` holds."""
    if relation in ("above", "below"):
        col = rng.randrange(3)
        r1, r2 = sorted(rng.sample(range(3), 2))
        a, b = (r1, r2) if relation == "above" else (r2, r1)
        return cell_name(col, a), cell_name(col, b)
    row = rng.randrange(3)
    if relation == "next to":
        c1 = rng.randrange(2)
        a, b = (c1, c1 + 1) if rng.random() < 0.5 else (c1 + 1, c1)
    else:
        c1, c2 = sorted(rng.sample(range(3), 2))
        a, b = (c1, c2) if relation == "left of" else (c2, c1)
    return cell_name(a, row), cell_name(b, row)


def relation_holds(relation: str, first: str, second: str) -> bool:
    (c1, r1), (c2, r2) = CELLS[first], CELLS[second]
    return {"above": r1 < r2, "below": r1 > r2, "left of": c1 < c2, "right of": c1 > c2,
            "next to": (r1 == r2 and abs(c1 - c2) == 1) or (c1 == c2 and abs(r1 - r2) == 1)}[relation]


def sample_scene(rng: random.Random, allow_held_out: bool = False, n_shapes: int | None = None,
                 layout: str | None = None, background: str | None = None) -> Scene:
    """Draws a scene; unless allow_held_out, it uses no held-out combination. n_shapes=1 means a single shape."""
    if layout is None:
        layout = "single" if n_shapes == 1 else rng.choices(list(LAYOUTS), weights=list(LAYOUTS.values()))[0]
    while True:
        bg = background or rng.choice(BACKGROUNDS)
        colours = [c for c in COLOUR_NAMES if c != bg]
        relation = None
        if layout == "single":
            cells = [rng.choice(POSITION_NAMES)]
        elif layout == "count":
            n = n_shapes or rng.choice([2, 3])
            cells = rng.sample(POSITION_NAMES, n)
        elif layout == "relation":
            relation = rng.choice(RELATIONS)
            cells = list(relation_cells(rng, relation))
        else:
            cells = rng.sample(POSITION_NAMES, n_shapes or rng.choice([2, 3]))
        shapes = []
        if layout == "count":
            kind, colour, size = rng.choice(KINDS), rng.choice(colours), rng.choice(list(SIZES))
            tight = any(crowded(c, cells) for c in cells)
            shapes = [make_shape(rng, kind, colour, "small" if tight else size, c, tight) for c in cells]
        else:
            for c in cells:
                tight = crowded(c, cells)
                size = "small" if tight else rng.choice(list(SIZES))
                shapes.append(make_shape(rng, rng.choice(KINDS), rng.choice(colours), size, c, tight))
        if layout == "relation" and (shapes[0].kind, shapes[0].colour) == (shapes[1].kind, shapes[1].colour):
            continue
        scene = Scene(bg, shapes, layout=layout, relation=relation)
        if allow_held_out or not is_held_out(scene):
            return scene


def describe_shape(rng: random.Random, s: Shape, with_size: bool, with_position: bool, article: str | None = None) -> str:
    words = []
    if with_size:
        words.append(s.size)
    words += [colour_word(rng, s.colour), kind_word(rng, s.kind)]
    words.insert(0, article or ("an" if words[0][0] in "aeiou" else "a"))
    if with_position:
        words.append(rng.choice(POSITION_PHRASES[s.position]))
    return " ".join(words)


def caption_scene(rng: random.Random, scene: Scene, full: bool = False) -> str:
    """A caption of the scene; full: with every attribute (size, positions) and the background last."""
    with_size = full or rng.random() < 0.7
    if scene.layout == "single":
        s = scene.shapes[0]
        shapes_text = describe_shape(rng, s, with_size, full or rng.random() < 0.85,
                                     "one" if not full and rng.random() < 0.1 else None)
    elif scene.layout == "count":
        s, n = scene.shapes[0], len(scene.shapes)
        words = [rng.choice(COUNT_WORDS[n])] + ([s.size] if with_size else [])
        shapes_text = " ".join(words + [colour_word(rng, s.colour), kind_word(rng, s.kind, plural=True)])
    elif scene.layout == "relation":
        a, b = scene.shapes
        shapes_text = (describe_shape(rng, a, with_size, False) + " " + rng.choice(RELATION_PHRASES[scene.relation]) + " "
                       + describe_shape(rng, b, with_size, False))
    else:
        with_position = full or rng.random() < 0.9
        parts = [describe_shape(rng, s, with_size, with_position) for s in scene.shapes]
        shapes_text = ", ".join(parts[:-1]) + " and " + parts[-1]
    if full or rng.random() < 0.75:
        return f"{shapes_text} {background_phrase(rng, scene.background)}"
    return f"{lead_phrase(scene.background, rng)} with {shapes_text}"


def _polygon(kind: str, r: float) -> list[tuple[float, float]]:
    if kind == "square":
        s = r * 0.85
        return [(-s, -s), (s, -s), (s, s), (-s, s)]
    if kind == "diamond":
        return [(0, -r * 1.05), (r * 0.72, 0), (0, r * 1.05), (-r * 0.72, 0)]
    if kind == "hexagon":
        return [(r * 0.97 * math.cos(a), r * 0.97 * math.sin(a)) for a in (i * math.pi / 3 for i in range(6))]
    if kind == "cross":
        a, w = r * 0.95, r * 0.34
        return [(-w, -a), (w, -a), (w, -w), (a, -w), (a, w), (w, w), (w, a), (-w, a), (-w, w), (-a, w), (-a, -w), (-w, -w)]
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


def shape_patch(s: Shape, width: int = SIZE, height: int = SIZE) -> tuple[int, int, np.ndarray]:
    """(x0, y0, anti-aliased coverage float32 0..1) of one shape, drawn only in its bounding box (fast at 256x256)."""
    cx, cy, r = s.fx * width, s.fy * height, s.radius * min(width, height)
    x0, y0 = max(0, int(cx - 1.3 * r) - 1), max(0, int(cy - 1.3 * r) - 1)
    x1, y1 = min(width, int(cx + 1.3 * r) + 2), min(height, int(cy + 1.3 * r) + 2)
    img = Image.new("L", ((x1 - x0) * SS, (y1 - y0) * SS), 0)
    d = ImageDraw.Draw(img)
    cx, cy, r = (cx - x0) * SS, (cy - y0) * SS, r * SS
    if s.kind in ("circle", "ring", "crescent"):
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        if s.kind == "ring":
            ri = r * 0.55
            d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=0)
        elif s.kind == "crescent":
            a = math.radians(s.angle - 30)
            ox, oy, ri = cx + 0.5 * r * math.cos(a), cy + 0.5 * r * math.sin(a), r * 0.82
            d.ellipse([ox - ri, oy - ri, ox + ri, oy + ri], fill=0)
    else:
        a = math.radians(s.angle)
        ca, sa = math.cos(a), math.sin(a)
        pts = [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in _polygon(s.kind, r)]
        d.polygon(pts, fill=255)
    img = img.resize((x1 - x0, y1 - y0), Image.BOX)
    return x0, y0, np.asarray(img, dtype=np.float32) / 255.0


def shape_mask(s: Shape, width: int = SIZE, height: int = SIZE) -> np.ndarray:
    """Anti-aliased coverage mask (float32 [height, width], 0..1) of one shape."""
    out = np.zeros((height, width), np.float32)
    x0, y0, m = shape_patch(s, width, height)
    out[y0:y0 + m.shape[0], x0:x0 + m.shape[1]] = m
    return out


def background_image(name: str, width: int = SIZE, height: int = SIZE) -> np.ndarray:
    if name in SOLID_BACKGROUNDS:
        return np.broadcast_to(np.array(SOLID_BACKGROUNDS[name], np.float32), (height, width, 3)).copy()
    top, bottom, horizon = SPECIAL_BACKGROUNDS[name]
    t = (np.arange(height, dtype=np.float32) + 0.5) / height
    if horizon is not None:
        t = (t >= horizon).astype(np.float32)
    col = np.array(top, np.float32)[None] * (1 - t[:, None]) + np.array(bottom, np.float32)[None] * t[:, None]
    return np.broadcast_to(col[:, None, :], (height, width, 3)).copy()


def render(scene: Scene, width: int = SIZE, height: int = SIZE) -> np.ndarray:
    """uint8 [height, width, 3] image of the scene."""
    img = background_image(scene.background, width, height)
    for s in scene.shapes:
        x0, y0, m = shape_patch(s, width, height)
        box = img[y0:y0 + m.shape[0], x0:x0 + m.shape[1]]
        m = m[..., None]
        box[:] = box * (1 - m) + np.array(SHAPE_COLOURS[s.colour], np.float32) * m
    return (img + 0.5).astype(np.uint8)  # convex blends of 0..255 colours: no clipping needed


def make_dataset(n: int, seed: int, empty_fraction: float = 0.1, allow_held_out: bool = False,
                 width: int = SIZE, height: int = SIZE):
    """Returns (images uint8 [n,height,width,3], captions list[str], scenes list[Scene])."""
    rng = random.Random(seed)
    images = np.empty((n, height, width, 3), np.uint8)
    captions, scenes = [], []
    for i in range(n):
        scene = sample_scene(rng, allow_held_out)
        scene.caption = "" if rng.random() < empty_fraction else caption_scene(rng, scene)
        images[i] = render(scene, width, height)
        captions.append(scene.caption)
        scenes.append(scene)
    return images, captions, scenes


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def caption_vocabulary() -> dict[str, list[str]]:
    """The words the caption grammar can produce (what the model was taught), with its content words by kind.

    The generate page and the API mark prompt words outside "words". Category entries may be phrases
    ("top left", "left of"); all their words are in "words". check_caption_vocabulary() proves it against captions.
    """
    colour_words = [w for c in COLOUR_NAMES for w in dict.fromkeys(COLOUR_SYNONYMS.get(c, [c]))]
    kind_words = [w for k in KINDS for w in KIND_SYNONYMS.get(k, [k])]
    plurals = [PLURALS.get(w, w + "s") for w in kind_words]
    phrases = [p for ps in POSITION_PHRASES.values() for p in ps]
    phrases += [p for ps in BACKGROUND_PHRASES.values() for p in ps]
    phrases += [lead_phrase(b) for b in BACKGROUNDS]
    phrases += [p for ps in RELATION_PHRASES.values() for p in ps] + [p for ps in COUNT_WORDS.values() for p in ps]
    phrases += colour_words + kind_words + plurals + list(SIZES)
    phrases += ["a", "an", "and", "with"]
    backgrounds = colour_words + [BACKGROUND_DISPLAY_NAMES[b] for b in SPECIAL_BACKGROUNDS]
    vocabulary = {
        "words": sorted({w for p in phrases for w in _words(p)}),
        "colours": colour_words,
        "kinds": kind_words,  # plurals ("circles", "crosses") are in "words"
        "sizes": list(SIZES),
        "positions": list(POSITION_NAMES),
        "backgrounds": backgrounds,
        "counts": [p for ps in COUNT_WORDS.values() for p in ps],
        "relations": [p for ps in RELATION_PHRASES.values() for p in ps],
    }
    known = set(vocabulary["words"])
    for key, entries in vocabulary.items():
        missing = [w for e in entries for w in _words(e) if w not in known]
        assert not missing, f"vocabulary {key} uses words no caption has: {missing}"
    return vocabulary


def vocabulary_words() -> set[str]:
    """The tokenizer's word list: every caption word plus a few common ones no caption uses."""
    words = set(caption_vocabulary()["words"])
    words.update(["shape", "shapes", "of", "the", "in", "on", "over", "picture", "image"])
    return words


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
    print(check_caption_vocabulary(), "caption words")
    for _ in range(12):
        sc = sample_scene(rng)
        print(sc.layout, "|", caption_scene(rng, sc))
    rows = []
    for w, h in [(128, 128), (256, 256), (96, 128), (128, 96)]:
        imgs, caps, _ = make_dataset(4, w + h, width=w, height=h)
        strip = np.zeros((256, 4 * 260, 3), np.uint8)
        for i, im in enumerate(imgs):
            strip[:h, i * 260:i * 260 + w] = im
        rows.append(strip)
    Image.fromarray(np.concatenate(rows)).save(sys.argv[1] if len(sys.argv) > 1 else "/tmp/shapes_grid.png")
