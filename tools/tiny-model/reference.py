"""Reference sampler: the Python definition of what the C# pipeline must compute.

Noise: Philox4x32-10 + Box-Muller (A1111's "NV" generator, Box-Muller in float64), one generator per batch
item seeded seed+i; call k of randn uses counter offset k (offset 0 = initial latent).
Schedules: diffusers' formulas (../../shared/reference/pipeline-notes.md §3), all in float64, for the
model's scheduler_config.json (SD 1.5 betas, steps_offset 1, per-sampler default spacing).
Models: the PyTorch modules the ONNX graphs were exported from (they agree to < 1e-4, checked by the
C# test suite on export_check.json), loaded from tools/tiny-model/checkpoint/.

    python3 reference.py goldens --model ../../models/tiny-shapes --out ../../tests/DiffusionGallery.Inference.Tests/Golden
    python3 reference.py sample --model ../../models/tiny-shapes --prompt "a red circle on a blue background" --out x.png
    python3 reference.py bench --model ../../models/tiny-shapes --steps 25 --runs 5
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- noise


M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)


def philox4x32_10(counter: np.ndarray, key: np.ndarray) -> np.ndarray:
    """counter uint32 [4,n], key uint32 [2] -> uint32 [4,n]."""
    c = counter.copy()
    k0, k1 = np.uint32(key[0]), np.uint32(key[1])
    with np.errstate(over="ignore"):
        for r in range(10):
            p0 = c[0].astype(np.uint64) * M0
            p1 = c[2].astype(np.uint64) * M1
            hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), (p0 & np.uint64(0xFFFFFFFF)).astype(np.uint32)
            hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), (p1 & np.uint64(0xFFFFFFFF)).astype(np.uint32)
            c = np.stack([hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0])
            if r < 9:
                k0, k1 = np.uint32(k0 + W0), np.uint32(k1 + W1)
    return c


class PhiloxGenerator:
    def __init__(self, seed: int):
        seed &= (1 << 64) - 1
        self.key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint32)
        self.offset = 0

    def randn(self, shape) -> np.ndarray:
        n = int(np.prod(shape))
        counter = np.zeros((4, n), dtype=np.uint32)
        counter[0] = self.offset
        counter[2] = np.arange(n, dtype=np.uint32)
        self.offset += 1
        g = philox4x32_10(counter, self.key)
        u = (g[0].astype(np.float64) + 0.5) * 2.0 ** -32
        v = (g[1].astype(np.float64) + 0.5) * (2.0 * math.pi * 2.0 ** -32)
        return (np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32).reshape(shape)


# ---------------------------------------------------------------- schedules

SAMPLERS = ["ddim", "ddpm", "euler", "euler_a", "lms", "dpmpp_2m", "lcm"]
SIGMA_SAMPLERS = {"euler", "euler_a", "lms", "dpmpp_2m"}
DEFAULT_SPACING = {"ddim": "leading", "ddpm": "leading", "lcm": "leading",
                   "euler": "linspace", "euler_a": "linspace", "lms": "linspace", "dpmpp_2m": "linspace"}


class Schedule:
    def __init__(self, config: dict):
        self.config = config
        T = self.T = config.get("num_train_timesteps", 1000)
        b0, b1 = config.get("beta_start", 0.00085), config.get("beta_end", 0.012)
        kind = config.get("beta_schedule", "scaled_linear")
        if kind == "scaled_linear":
            betas = np.linspace(b0 ** 0.5, b1 ** 0.5, T, dtype=np.float64) ** 2
        elif kind == "linear":
            betas = np.linspace(b0, b1, T, dtype=np.float64)
        else:
            raise ValueError(f"beta_schedule {kind}")
        self.ac = np.cumprod(1.0 - betas)
        self.sigma_table = np.sqrt((1 - self.ac) / self.ac)
        self.offset = config.get("steps_offset", 0)
        self.final_ac = 1.0 if config.get("set_alpha_to_one", False) else self.ac[0]

    def spacing(self, sampler: str) -> str:
        return self.config.get("timestep_spacing") or DEFAULT_SPACING[sampler]

    def timesteps(self, sampler: str, n: int, karras: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(timesteps float64 [n], sigmas float64 [n+1] for sigma samplers else [])."""
        T = self.T
        if sampler == "lcm":
            origin = np.arange(1, 51) * (T // 50) - 1
            idx = np.floor(np.linspace(0, 50, n, endpoint=False)).astype(np.int64)
            return origin[::-1][idx].astype(np.float64), np.array([])
        spacing = self.spacing(sampler)
        if sampler == "dpmpp_2m" and spacing == "linspace":
            ts = np.round(np.linspace(0, T - 1, n + 1))[::-1][:-1].copy()
        elif spacing == "linspace":
            ts = np.linspace(0, T - 1, n)[::-1].copy()
            if sampler in ("ddim", "ddpm", "lcm"):
                ts = np.round(ts)
        elif spacing == "leading":
            r = T // n
            ts = np.round(np.arange(0, n) * r)[::-1].astype(np.float64) + self.offset
        elif spacing == "trailing":
            ts = np.round(np.arange(T, 0, -T / n)) - 1
        else:
            raise ValueError(spacing)
        if sampler not in SIGMA_SAMPLERS:
            return ts, np.array([])
        if karras:
            smax, smin, rho = self.sigma_table[-1], self.sigma_table[0], 7.0
            ramp = np.linspace(0, 1, n)
            sig = (smax ** (1 / rho) + ramp * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
            ts = np.round(np.array([self.sigma_to_t(s) for s in sig]))
        else:
            sig = np.interp(ts, np.arange(T), self.sigma_table)
        return ts, np.concatenate([sig, [0.0]])

    def sigma_to_t(self, sigma: float) -> float:
        log_sigmas = np.log(self.sigma_table)
        ls = np.log(max(sigma, 1e-10))
        d = ls - log_sigmas
        low = int(np.clip(np.cumsum(d >= 0).argmax(), 0, len(log_sigmas) - 2))
        lo, hi = log_sigmas[low], log_sigmas[low + 1]
        w = np.clip((lo - ls) / (lo - hi), 0, 1)
        return (1 - w) * low + w * (low + 1)

    def alpha_at(self, t: float) -> float:
        return self.ac[int(t)] if t >= 0 else self.final_ac


def lms_coefficient(sigmas: np.ndarray, i: int, order: int, j: int) -> float:
    """Integral over [sigma_i, sigma_i+1] of the Lagrange basis polynomial j (4-point Gauss-Legendre, exact)."""
    def basis(tau):
        p = 1.0
        for k in range(order):
            if k != j:
                p *= (tau - sigmas[i - k]) / (sigmas[i - j] - sigmas[i - k])
        return p
    a, b = sigmas[i], sigmas[i + 1]
    xs, ws = np.polynomial.legendre.leggauss(4)
    return float(sum(w * basis(0.5 * (b - a) * x + 0.5 * (b + a)) for x, w in zip(xs, ws)) * 0.5 * (b - a))


# ---------------------------------------------------------------- sampling


def sample(model, prompt: str, negative: str = "", sampler: str = "dpmpp_2m", steps: int = 25, guidance: float = 7.0,
           seed: int = 0, width: int = 128, height: int = 128, batch: int = 1, eta: float = 0.0,
           temperature: float = 1.0, karras: bool = False, timings: dict | None = None):
    """Returns (final latents float32 [B,4,h,w] in UNet space, images uint8 [B,H,W,3])."""
    import torch
    sch = model.schedule
    h, w = height // 8, width // 8
    gens = [PhiloxGenerator(seed + i) for i in range(batch)]
    ts, sigmas = sch.timesteps(sampler, steps, karras)
    t0 = time.perf_counter()
    prompts = prompt if isinstance(prompt, list) else [prompt] * batch
    batch = len(prompts)
    gens = [PhiloxGenerator(seed + i) for i in range(batch)]
    ids = [model.tok.encode(p)[0] for p in prompts]
    neg = [model.tok.encode(negative)[0]] * batch
    cfg = guidance > 1.0
    with torch.no_grad():
        emb = model.te(torch.tensor((neg + ids) if cfg else ids, dtype=torch.int32, device=model.device))[0]
    t1 = time.perf_counter()
    x = np.stack([g.randn((4, h, w)) for g in gens]).astype(np.float64)
    if sampler in SIGMA_SAMPLERS - {"dpmpp_2m"}:
        x *= sigmas.max() if sch.spacing(sampler) == "linspace" else math.sqrt(sigmas.max() ** 2 + 1)
    history: list[np.ndarray] = []
    unet_time = 0.0

    def eps(xin: np.ndarray, t: float) -> np.ndarray:
        nonlocal unet_time
        u0 = time.perf_counter()
        xt = torch.from_numpy(xin.astype(np.float32)).to(model.device)
        if cfg:
            xt = torch.cat([xt, xt])
        with torch.no_grad():
            out = model.unet(xt, torch.full((xt.shape[0],), float(t), device=model.device), emb)
            out = out.cpu().numpy().astype(np.float64)
        unet_time += time.perf_counter() - u0
        if not cfg:
            return out
        u, c = out[:batch], out[batch:]
        return u + guidance * (c - u)

    def fresh() -> np.ndarray:
        return np.stack([g.randn((4, h, w)) for g in gens]).astype(np.float64) * temperature

    for i, t in enumerate(ts):
        if sampler in ("euler", "euler_a", "lms"):
            s, s_next = sigmas[i], sigmas[i + 1]
            e = eps(x / math.sqrt(s * s + 1), t)
            if sampler == "euler":
                x = x + e * (s_next - s)
            elif sampler == "euler_a":
                up = math.sqrt(s_next ** 2 * (s ** 2 - s_next ** 2) / s ** 2)
                down = math.sqrt(s_next ** 2 - up ** 2)
                x = x + e * (down - s)
                if up > 0:
                    x = x + up * fresh()
            else:
                history.insert(0, e)
                del history[4:]
                order = len(history)
                x = x + sum(lms_coefficient(sigmas, i, order, j) * history[j] for j in range(order))
        elif sampler == "dpmpp_2m":
            s, s_next = sigmas[i], sigmas[i + 1]
            e = eps(x, t)
            a_s = 1 / math.sqrt(s * s + 1)
            x0 = (x - s * a_s * e) / a_s
            if s_next == 0:
                x = x0
            else:
                a_t = 1 / math.sqrt(s_next ** 2 + 1)
                lam_t, lam_s = -math.log(s_next), -math.log(s)
                hh = lam_t - lam_s
                ratio = (s_next * a_t) / (s * a_s)
                if i == 0 or not history:
                    x = ratio * x - a_t * (math.exp(-hh) - 1) * x0
                else:
                    prev_x0, prev_s = history[0]
                    r0 = (lam_s - (-math.log(prev_s))) / hh
                    d1 = (x0 - prev_x0) / r0
                    x = ratio * x - a_t * (math.exp(-hh) - 1) * x0 - 0.5 * a_t * (math.exp(-hh) - 1) * d1
            history = [(x0, s)]
        else:  # ddim, ddpm, lcm
            e = eps(x, t)
            at = sch.alpha_at(t)
            if sampler == "lcm":
                prev = ts[i + 1] if i + 1 < len(ts) else -1
            else:
                prev = t - sch.T // steps
            ap = sch.alpha_at(prev)
            x0 = (x - math.sqrt(1 - at) * e) / math.sqrt(at)
            if sampler == "ddim":
                sd = eta * math.sqrt((1 - ap) / (1 - at)) * math.sqrt(1 - at / ap)
                x = math.sqrt(ap) * x0 + math.sqrt(max(0.0, 1 - ap - sd * sd)) * e
                if eta > 0:
                    x = x + sd * fresh()
            elif sampler == "ddpm":
                ap = ap if prev >= 0 else 1.0
                beta = 1 - at / ap
                mean = (math.sqrt(ap) * beta / (1 - at)) * x0 + (math.sqrt(at / ap) * (1 - ap) / (1 - at)) * x
                x = mean
                if t > 0 and prev >= 0:
                    var = max((1 - ap) / (1 - at) * beta, 1e-20)
                    x = x + math.sqrt(var) * fresh()
            else:
                st = t * 10.0
                c_skip, c_out = 0.25 / (st * st + 0.25), st / math.sqrt(st * st + 0.25)
                den = c_out * x0 + c_skip * x
                x = den if i == len(ts) - 1 else math.sqrt(ap) * den + math.sqrt(1 - ap) * fresh()
    t2 = time.perf_counter()
    latents = x.astype(np.float32)
    with torch.no_grad():
        img = model.dec(torch.from_numpy(latents / model.scaling).to(model.device)).cpu().numpy()
    images = (np.clip((img + 1) / 2, 0, 1) * 255).round().astype(np.uint8).transpose(0, 2, 3, 1)
    t3 = time.perf_counter()
    if timings is not None:
        timings.update({"text_s": t1 - t0, "loop_s": t2 - t1, "unet_s": unet_time, "decode_s": t3 - t2, "total_s": t3 - t0})
    return latents, images


class ReferenceModel:
    """The PyTorch modules behind a model folder, from tools/tiny-model/checkpoint/<name>.pt."""

    def __init__(self, folder: str | Path, checkpoint: str | Path | None = None, device: str = "cpu"):
        import torch
        sys.path.insert(0, str(HERE))
        from clip_tokenizer import ClipTokenizer
        from models import text_encoder_for, unet_for, vae_for
        folder = Path(folder)
        self.folder = folder
        self.info = json.loads((folder / "diffusion_gallery.json").read_text())
        self.schedule = Schedule(json.loads((folder / "scheduler/scheduler_config.json").read_text()))
        self.tok = ClipTokenizer.load(folder / "tokenizer")
        ck = torch.load(checkpoint or HERE / "checkpoint" / f"{folder.name}.pt", map_location="cpu")
        self.te = text_encoder_for(ck, len(self.tok.encoder)).eval()
        self.te.load_state_dict(ck["te"])
        self.unet = unet_for(ck).eval()
        self.unet.load_state_dict(ck["unet"])
        self.enc, self.dec = (m.eval() for m in vae_for(ck))
        self.scaling = float(ck["scaling"])
        self.device = device
        for m in (self.te, self.unet, self.enc, self.dec):
            m.to(device)


GOLDEN_PROMPTS = [
    "", "a red circle on a blue background", "A  Large   YELLOW star, in the TOP left!",
    "a small white heart at the bottom right over a sunset gradient", "two green triangles and 3 orange rings",
    "a purple ring at the top on a gradient from blue to white", "zebra unicorn 12345", "héllo wörld — café",
    "(a red circle:1.3) on [blue]", "it's a cat's toy, isn't it?", "a_b c-d e.f g/h", "   leading and trailing   ",
    "line one\nline two\ttab", "UPPER lower MiXeD", "a 10% chance of 2 squares", "emoji 🎨 test",
    " ".join(["a red circle on a blue background"] * 12),
    ", ".join(["a small green star in the top left"] * 9),
    "<|startoftext|> special <|endoftext|>", "!!! ??? ...",
]


def write_goldens(model: ReferenceModel, out: Path, check_file: Path | None) -> None:
    import torch
    out.mkdir(parents=True, exist_ok=True)
    seeds = [0, 1, 42, 123456789, 9007199254740993, 9223372036854775807]
    noise = {"algorithm": "Philox4x32-10 (A1111 NV), Box-Muller in float64, counter=(offset,0,index,0)",
             "cases": [{"seed": s, "offset": off, "values": [float(v) for v in _nth_call(s, off, 64)]}
                       for s in seeds for off in (0, 1)]}
    (out / "noise.json").write_text(json.dumps(noise))
    toks = {"cases": []}
    for p in GOLDEN_PROMPTS:
        ids, dropped = model.tok.encode(p)
        toks["cases"].append({"prompt": p, "ids": ids, "truncated": dropped})
    (out / "tokens.json").write_text(json.dumps(toks, ensure_ascii=False))
    emb = {"cases": []}
    for p in ["", "a red circle on a blue background", "a large yellow star in the top left on a black background"]:
        with torch.no_grad():
            h = model.te(torch.tensor([model.tok.encode(p)[0]], dtype=torch.int32))[0]
        emb["cases"].append({"prompt": p, "shape": list(h.shape), "values": [float(f"{v:.8g}") for v in h.reshape(-1)]})
    (out / "embeddings.json").write_text(json.dumps(emb))
    sch = {"cases": []}
    for s in SAMPLERS:
        for n in (1, 10, 25, 50):
            for karras in ([False, True] if s == "dpmpp_2m" else [False]):
                if karras and n == 1:
                    continue
                ts, sig = model.schedule.timesteps(s, n, karras)
                sch["cases"].append({"sampler": s, "karras": karras, "steps": n, "timesteps": ts.tolist(), "sigmas": sig.tolist()})
    (out / "schedules.json").write_text(json.dumps(sch))
    from PIL import Image
    spec = {"prompt": "a large yellow star in the top left on a black background", "negative": "", "seed": 42,
            "steps": 25, "guidance": 7.0, "width": 128, "height": 128, "cases": []}
    for s in ["ddim", "euler", "euler_a", "dpmpp_2m", "lms"]:
        lat, img = sample(model, spec["prompt"], spec["negative"], s, spec["steps"], spec["guidance"], spec["seed"])
        name = f"sample_{s}.png"
        Image.fromarray(img[0]).save(out / name)
        spec["cases"].append({"sampler": s, "latent": [float(f"{v:.8g}") for v in lat.reshape(-1)], "image": name})
    (out / "samples.json").write_text(json.dumps(spec))
    if check_file and check_file.exists():
        shutil.copy(check_file, out / "export_check.json")
    print(f"goldens written to {out}")


def _nth_call(seed: int, offset: int, count: int) -> np.ndarray:
    g = PhiloxGenerator(seed)
    g.offset = offset
    return g.randn((count,))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("goldens")
    g.add_argument("--model", required=True)
    g.add_argument("--checkpoint")
    g.add_argument("--out", required=True)
    g.add_argument("--check-file", help="export_check.json written by the export")
    s = sub.add_parser("sample")
    b = sub.add_parser("bench", help="time the PyTorch reference sampler (the baseline for the C# bench)")
    for q in (s, b):
        q.add_argument("--model", required=True)
        q.add_argument("--checkpoint")
        q.add_argument("--prompt", default="a red circle on a blue background")
        q.add_argument("--negative", default="")
        q.add_argument("--sampler", default="dpmpp_2m", choices=SAMPLERS)
        q.add_argument("--steps", type=int, default=25)
        q.add_argument("--guidance", type=float, default=7.0)
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--batch", type=int, default=1)
        q.add_argument("--threads", type=int, default=0)
        q.add_argument("--device", default="cpu", help="cpu or cuda (the UNet, text encoder and VAE run there; the "
                                                         "scheduler arithmetic stays in float64 numpy)")
    s.add_argument("--out", required=True)
    b.add_argument("--runs", type=int, default=5)
    b.add_argument("--json", help="write the figures here")
    a = p.parse_args()
    import torch
    if getattr(a, "threads", 0):
        torch.set_num_threads(a.threads)
    model = ReferenceModel(a.model, a.checkpoint, getattr(a, "device", "cpu"))
    if a.cmd == "goldens":
        write_goldens(model, Path(a.out), Path(a.check_file) if a.check_file else None)
    elif a.cmd == "sample":
        from PIL import Image
        _, imgs = sample(model, a.prompt, a.negative, a.sampler, a.steps, a.guidance, a.seed, batch=a.batch)
        Image.fromarray(np.concatenate(list(imgs), axis=1)).save(a.out)
    else:
        sample(model, a.prompt, a.negative, a.sampler, a.steps, a.guidance, a.seed, batch=a.batch)  # warm-up
        runs = []
        for _ in range(a.runs):
            t = {}
            sample(model, a.prompt, a.negative, a.sampler, a.steps, a.guidance, a.seed, batch=a.batch, timings=t)
            runs.append(t)
        mean = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        engine = (f"PyTorch {torch.__version__} CUDA ({torch.cuda.get_device_name()})" if a.device == "cuda"
                  else f"PyTorch {torch.__version__} CPU ({torch.get_num_threads()} threads)")
        result = {"engine": engine, "sampler": a.sampler,
                  "steps": a.steps, "guidance": a.guidance, "batch": a.batch, "runs": a.runs, "mean": mean,
                  "images_per_s": a.batch / mean["total_s"]}
        print(json.dumps(result, indent=2))
        if a.json:
            Path(a.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
