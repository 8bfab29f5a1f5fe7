"""The three networks of the bundled model: CLIP-style text encoder, factor-8 VAE, conditional UNet.

All attention is written with plain matmul/softmax so the ONNX export (opset 17) is simple and fast on CPU. Training
may switch to torch's fused scaled_dot_product_attention (torch >= 2.0; `fast_attention`): the same function, fewer
kernels; the export and the reference sampler always take the matmul/softmax path, so the ONNX graphs do not change.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_TOKENS = 77

_SDPA = getattr(F, "scaled_dot_product_attention", None)  # torch >= 2.0
_FAST_ATTENTION = False


def has_fast_attention() -> bool:
    return _SDPA is not None


class fast_attention:
    """Context manager: attention through F.scaled_dot_product_attention while it is active (where torch has it);
    never during an ONNX export or a trace, so exported graphs stay matmul/softmax."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and _SDPA is not None

    def __enter__(self):
        global _FAST_ATTENTION
        self.previous, _FAST_ATTENTION = _FAST_ATTENTION, self.enabled
        return self

    def __exit__(self, *exc):
        global _FAST_ATTENTION
        _FAST_ATTENTION = self.previous
        return False


def _use_sdpa() -> bool:
    return _FAST_ATTENTION and not torch.onnx.is_in_onnx_export() and not torch.jit.is_tracing()


class Attention(nn.Module):
    # training with --attention-loss (train.py) sets keep_probs on some cross-attention layers: they take the
    # matmul/softmax path (SDPA gives no probabilities) and keep them in `probs` [B, heads, queries, keys] for the loss
    keep_probs = False
    probs = None

    def __init__(self, dim: int, context_dim: int | None = None, heads: int = 4):
        super().__init__()
        context_dim = context_dim or dim
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(context_dim, dim, bias=False)
        self.v = nn.Linear(context_dim, dim, bias=False)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        context = x if context is None else context
        b, n, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, n, h, d // h).transpose(1, 2)
        k = self.k(context).reshape(b, context.shape[1], h, d // h).transpose(1, 2)
        v = self.v(context).reshape(b, context.shape[1], h, d // h).transpose(1, 2)
        if _use_sdpa() and not self.keep_probs:  # the same scale (1/sqrt(head dim)) and additive mask, fused
            a = _SDPA(q, k, v, attn_mask=None if mask is None else mask.to(q.dtype))
            return self.out(a.transpose(1, 2).reshape(b, n, d))
        w = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h))
        if mask is not None:
            w = w + mask
        p = w.softmax(dim=-1)
        if self.keep_probs:
            self.probs = p
        a = torch.matmul(p, v)
        return self.out(a.transpose(1, 2).reshape(b, n, d))


class TextEncoder(nn.Module):
    """input_ids int32 [B,77] -> last_hidden_state [B,77,D], pooler_output [B,D] (hidden state at EOS).

    causal (CLIP's mask, v1-v4): a token sees only the tokens before it, so "a red circle" reads the same before
    "above" as before "below"; bidirectional: every token up to the EOS sees the whole caption (the keys after the EOS
    are masked, so the result does not depend on how much padding follows)."""

    def __init__(self, vocab_size: int, dim: int = 128, layers: int = 2, heads: int = 4, bidirectional: bool = False):
        super().__init__()
        self.bidirectional = bidirectional
        self.token = nn.Embedding(vocab_size, dim)
        self.position = nn.Parameter(torch.randn(MAX_TOKENS, dim) * 0.02)
        self.layers = nn.ModuleList()
        for _ in range(layers):
            self.layers.append(nn.ModuleDict({
                "ln1": nn.LayerNorm(dim), "attn": Attention(dim, heads=heads),
                "ln2": nn.LayerNorm(dim), "mlp": nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim)),
            }))
        self.final = nn.LayerNorm(dim)
        # every position after the first EOS gets this one vector, so the UNet sees the same padding
        # whatever the caption length (and training can run the encoder on the first L tokens only)
        self.pad = nn.Parameter(torch.zeros(dim))
        mask = torch.full((MAX_TOKENS, MAX_TOKENS), -1e4).triu(1)
        self.register_buffer("causal", mask, persistent=False)
        self.dim = dim

    def forward(self, input_ids: torch.Tensor, length: int = MAX_TOKENS):
        """length < 77 (training only) runs the layers on the first `length` tokens; the rest is padding."""
        ids = input_ids.long()
        n = ids.shape[1]
        x = self.token(ids[:, :length]) + self.position[:length]
        eos = ids.argmax(dim=-1)
        if self.bidirectional:  # [B, 1, 1, L]: keys after the EOS masked
            keys = torch.arange(x.shape[1], device=ids.device)[None, :] > eos[:, None]
            mask = torch.where(keys, -1e4, 0.0).to(x.dtype)[:, None, None, :]
        else:
            mask = self.causal[:length, :length]
        for layer in self.layers:
            x = x + layer["attn"](layer["ln1"](x), mask=mask)
            x = x + layer["mlp"](layer["ln2"](x))
        x = self.final(x)
        if length < n:
            x = torch.cat([x, x.new_zeros(x.shape[0], n - length, x.shape[2])], dim=1)
        after = (torch.arange(n, device=ids.device)[None, :] > eos[:, None]).unsqueeze(-1)
        x = torch.where(after, self.pad.expand_as(x), x)
        pooled = x[torch.arange(x.shape[0]), eos]
        return x, pooled


def text_encoder_for(checkpoint: dict, vocab_size: int) -> TextEncoder:
    """The text encoder a checkpoint was trained with (checkpoints before `text_bidirectional` are causal)."""
    return TextEncoder(vocab_size, bidirectional=bool(checkpoint.get("text_bidirectional", False)))


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int):
        super().__init__()
        self.n1 = nn.GroupNorm(8, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout * 2)
        self.n2 = nn.GroupNorm(8, cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.c1(F.silu(self.n1(x)))
        scale, shift = self.t(temb)[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1 + scale) + shift
        h = self.c2(F.silu(h))
        return self.skip(x) + h


class SpatialAttention(nn.Module):
    """Self-attention (optional) then cross-attention to the text, on a feature map."""

    def __init__(self, ch: int, context_dim: int, self_attn: bool, ff: bool = True):
        super().__init__()
        self.self_attn = Attention(ch) if self_attn else None
        self.n1 = nn.LayerNorm(ch) if self_attn else None
        self.n2 = nn.LayerNorm(ch)
        self.cross = Attention(ch, context_dim)
        self.n3 = nn.LayerNorm(ch) if ff else None
        self.ff = nn.Sequential(nn.Linear(ch, ch * 2), nn.GELU(), nn.Linear(ch * 2, ch)) if ff else None

    def forward(self, x, context):
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)
        if self.self_attn is not None:
            t = t + self.self_attn(self.n1(t))
        t = t + self.cross(self.n2(t), context)
        if self.ff is not None:
            t = t + self.ff(self.n3(t))
        return t.transpose(1, 2).reshape(b, c, h, w)


DEFAULT_UNET_CHANNELS = (64, 112, 144)
LEGACY_UNET_CHANNELS = (48, 96, 128)  # what checkpoints from before --unet-channels hold


class UNet(nn.Module):
    """sample [B,4,h,w], timestep [B] float, encoder_hidden_states [B,77,D] -> out_sample (epsilon)."""

    def __init__(self, context_dim: int = 128, channels=DEFAULT_UNET_CHANNELS, temb: int = 192, relative_position: bool = True):
        super().__init__()
        c0, c1, c2 = channels
        self.channels = tuple(channels)
        # relative coordinates: a learned 8x8 map resized (bilinear) to the latent grid, whatever its size, so that
        # "top left" means the same fraction of the image at 128x128 and at 256x256 (v2; v1 checkpoints have none)
        self.relative_position = relative_position
        self.pos0 = nn.Parameter(torch.randn(1, c0, 8, 8) * 0.02) if relative_position else None
        self.pos1 = nn.Parameter(torch.randn(1, c1, 8, 8) * 0.02) if relative_position else None
        self.temb_dim = temb
        self.time = nn.Sequential(nn.Linear(64, temb), nn.SiLU(), nn.Linear(temb, temb))
        # global text conditioning: one learned query attends over the tokens, added to the time embedding
        self.pool_query = nn.Parameter(torch.randn(1, 1, context_dim) * 0.02)
        self.pool = Attention(context_dim, context_dim)
        self.pool_proj = nn.Linear(context_dim, temb)
        self.conv_in = nn.Conv2d(4, c0, 3, padding=1)
        self.d0 = ResBlock(c0, c0, temb)
        self.a0 = SpatialAttention(c0, context_dim, self_attn=False, ff=False)
        self.down0 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.d1 = ResBlock(c1, c1, temb)
        self.a1 = SpatialAttention(c1, context_dim, self_attn=True)
        self.down1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.d2 = ResBlock(c2, c2, temb)
        self.a2 = SpatialAttention(c2, context_dim, self_attn=True)
        self.m1 = ResBlock(c2, c2, temb)
        self.u2 = ResBlock(c2 * 2, c2, temb)
        self.ua2 = SpatialAttention(c2, context_dim, self_attn=True)
        self.up1 = nn.Conv2d(c2, c1, 3, padding=1)
        self.u1 = ResBlock(c1 * 2, c1, temb)
        self.ua1 = SpatialAttention(c1, context_dim, self_attn=True)
        self.up0 = nn.Conv2d(c1, c0, 3, padding=1)
        self.u0 = ResBlock(c0 * 2, c0, temb)
        self.ua0 = SpatialAttention(c0, context_dim, self_attn=False, ff=False)
        self.out = nn.Sequential(nn.GroupNorm(8, c0), nn.SiLU(), nn.Conv2d(c0, 4, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, sample, timestep, encoder_hidden_states):
        ctx = encoder_hidden_states
        t = timestep.reshape(-1).expand(sample.shape[0])  # [B], [1] or scalar
        temb = self.time(timestep_embedding(t, 64))
        pooled = self.pool(self.pool_query.expand(ctx.shape[0], -1, -1), ctx)[:, 0]
        temb = F.silu(temb + self.pool_proj(pooled))
        h0 = self.conv_in(sample)
        if self.pos0 is not None:
            h0 = h0 + F.interpolate(self.pos0, size=h0.shape[-2:], mode="bilinear", align_corners=False)
        h0 = self.a0(self.d0(h0, temb), ctx)
        h1 = self.down0(h0)
        if self.pos1 is not None:
            h1 = h1 + F.interpolate(self.pos1, size=h1.shape[-2:], mode="bilinear", align_corners=False)
        h1 = self.a1(self.d1(h1, temb), ctx)
        h2 = self.a2(self.d2(self.down1(h1), temb), ctx)
        m = self.m1(h2, temb)
        u = self.ua2(self.u2(torch.cat([m, h2], 1), temb), ctx)
        u = self.up1(F.interpolate(u, size=h1.shape[-2:], mode="nearest"))
        u = self.ua1(self.u1(torch.cat([u, h1], 1), temb), ctx)
        u = self.up0(F.interpolate(u, size=h0.shape[-2:], mode="nearest"))
        u = self.ua0(self.u0(torch.cat([u, h0], 1), temb), ctx)
        return self.out(u)


def unet_for(checkpoint: dict) -> UNet:
    """A UNet of the widths a checkpoint records."""
    return UNet(channels=tuple(checkpoint.get("unet_channels", LEGACY_UNET_CHANNELS)),
                relative_position=bool(checkpoint.get("relative_position", False)))


def _block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.SiLU())


# Widths and depth of the VAE. The first model's VAE (LEGACY_VAE, what checkpoints without a "vae" record hold)
# lost the kind of a third of the small shapes in a round trip (stars came back as blobs); the default is wider
# and one block deeper at the latent and at the full-size level.
DEFAULT_VAE = {"encoder": (32, 64, 128), "decoder": (128, 96, 48, 24), "blocks": 2}
LEGACY_VAE = {"encoder": (24, 48, 96), "decoder": (96, 48, 24, 16), "blocks": 1}


class VaeEncoder(nn.Module):
    """image [B,3,H,W] in [-1,1] -> (mean, logvar) of a 4-channel latent at H/8."""

    def __init__(self, ch=DEFAULT_VAE["encoder"], blocks: int = DEFAULT_VAE["blocks"]):
        super().__init__()
        a, b, c = ch
        self.net = nn.Sequential(
            nn.Conv2d(3, a, 3, stride=2, padding=1), nn.SiLU(), _block(a, a),
            nn.Conv2d(a, b, 3, stride=2, padding=1), nn.SiLU(), _block(b, b),
            nn.Conv2d(b, c, 3, stride=2, padding=1), nn.SiLU(), *[_block(c, c) for _ in range(blocks)],
            nn.Conv2d(c, 8, 1))

    def forward(self, x):
        mean, logvar = self.net(x).chunk(2, dim=1)
        return mean, logvar.clamp(-20, 10)


class VaeDecoder(nn.Module):
    """latent [B,4,h,w] (unscaled) -> image [B,3,8h,8w] in [-1,1]."""

    def __init__(self, ch=DEFAULT_VAE["decoder"], blocks: int = DEFAULT_VAE["blocks"]):
        super().__init__()
        a, b, c, d = ch
        self.inp = nn.Sequential(nn.Conv2d(4, a, 3, padding=1), nn.SiLU(), *[_block(a, a) for _ in range(blocks + 1)])
        self.up1 = nn.Sequential(_block(a, b), _block(b, b))
        self.up2 = nn.Sequential(_block(b, c), _block(c, c))
        self.up3 = nn.Sequential(_block(c, d), *[_block(d, d) for _ in range(blocks - 1)])
        self.out = nn.Conv2d(d, 3, 3, padding=1)

    def forward(self, z):
        h = self.inp(z)
        h = self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.up2(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.up3(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.out(h)


def vae_config(checkpoint: dict) -> dict:
    """The VAE shape a checkpoint records (ones from before the record hold the legacy VAE)."""
    return checkpoint.get("vae", LEGACY_VAE)


def vae_for(checkpoint: dict, load: bool = True) -> tuple[VaeEncoder, VaeDecoder]:
    """Encoder and decoder of the shape a checkpoint records, with its weights ("enc", "dec") when load is set."""
    cfg = vae_config(checkpoint)
    enc, dec = VaeEncoder(cfg["encoder"], cfg["blocks"]), VaeDecoder(cfg["decoder"], cfg["blocks"])
    if load:
        enc.load_state_dict(checkpoint["enc"])
        dec.load_state_dict(checkpoint["dec"])
    return enc, dec


class ExportedVaeEncoder(nn.Module):
    """The ONNX vae_encoder: the posterior mean (deterministic), unscaled, as diffusers' latent_sample."""

    def __init__(self, enc: VaeEncoder):
        super().__init__()
        self.enc = enc

    def forward(self, sample):
        return self.enc.net(sample)[:, :4]  # the mean; a slice keeps the channel count static in the graph


class ExportedTextEncoder(nn.Module):
    def __init__(self, te: TextEncoder):
        super().__init__()
        self.te = te

    def forward(self, input_ids):
        return self.te(input_ids)


def count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


if __name__ == "__main__":
    import time
    torch.set_num_threads(2)
    te, un, ve, vd = TextEncoder(712), UNet(), VaeEncoder(), VaeDecoder()
    for n, m in [("te", te), ("unet", un), ("venc", ve), ("vdec", vd)]:
        print(n, count(m))
    ids = torch.randint(0, 700, (64, 77), dtype=torch.int32)
    x = torch.randn(64, 4, 16, 16)
    opt = torch.optim.AdamW(list(un.parameters()) + list(te.parameters()), 1e-4)
    for i in range(4):
        t0 = time.time()
        ctx, _ = te(ids, 32)
        loss = F.mse_loss(un(x, torch.rand(64) * 999, ctx), x)
        opt.zero_grad(); loss.backward(); opt.step()
        print("unet step b64 %.2fs" % (time.time() - t0))
    img = torch.randn(32, 3, 64, 64)
    opt2 = torch.optim.Adam(list(ve.parameters()) + list(vd.parameters()), 1e-3)
    for i in range(3):
        t0 = time.time()
        m, lv = ve(img)
        loss = F.l1_loss(vd(m), img)
        opt2.zero_grad(); loss.backward(); opt2.step()
        print("vae step b32@64 %.2fs" % (time.time() - t0))
