"""A CLIP-format byte-level BPE tokenizer: builds vocab.json/merges.txt for the caption vocabulary and
encodes text exactly as transformers' CLIPTokenizer does (minus ftfy): whitespace clean, lowercase,
CLIP pre-tokenizer regex, byte-to-unicode mapping, BPE with '</w>' end-of-word, BOS/EOS, pad to 77 with EOS.
Words outside the vocabulary fall back to smaller pieces, down to single bytes, so nothing is unknown.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_LENGTH = 77
# CLIP's pattern; \p{L} / \p{N} approximated for Python's re with explicit classes (letters: [^\W\d_]).
PATTERN = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+",
                     re.IGNORECASE)


@lru_cache()
def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def whitespace_clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class ClipTokenizer:
    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]]):
        self.encoder = vocab
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.cache: dict[str, list[str]] = {}
        self.bos_id, self.eos_id = vocab[BOS], vocab[EOS]

    @classmethod
    def load(cls, folder: str | Path) -> "ClipTokenizer":
        folder = Path(folder)
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        lines = (folder / "merges.txt").read_text(encoding="utf-8").split("\n")
        merges = [tuple(l.split()) for l in lines[1:] if l.strip()]
        return cls(vocab, merges)

    def bpe(self, token: str) -> list[str]:
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            first, second = best
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = new
        self.cache[token] = word
        return word

    def tokenize(self, text: str) -> list[int]:
        """Token ids without BOS/EOS."""
        text = whitespace_clean(text).lower()
        ids = []
        for piece in PATTERN.findall(text):
            if piece in (BOS, EOS):
                ids.append(self.encoder[piece])
                continue
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(mapped))
        return ids

    def encode(self, text: str) -> tuple[list[int], int]:
        """[BOS, tokens..., EOS, pad...] of length 77 and the number of tokens dropped by truncation."""
        ids = self.tokenize(text)
        dropped = max(0, len(ids) - (MAX_LENGTH - 2))
        ids = [self.bos_id] + ids[:MAX_LENGTH - 2] + [self.eos_id]
        return ids + [self.eos_id] * (MAX_LENGTH - len(ids)), dropped


def build(words: set[str], folder: str | Path) -> ClipTokenizer:
    """Writes vocab.json and merges.txt such that every word is one token; everything else falls back to bytes."""
    benc = bytes_to_unicode()
    base = list(benc.values())
    vocab_list = base + [c + "</w>" for c in base]
    merges: list[tuple[str, str]] = []
    tok = ClipTokenizer({t: i for i, t in enumerate(vocab_list + [BOS, EOS])}, merges)
    for w in sorted(words):
        for _ in range(64):
            tok.ranks = {m: i for i, m in enumerate(merges)}
            tok.cache.clear()
            pieces = tok.bpe(w)
            if len(pieces) == 1:
                break
            merges.append((pieces[0], pieces[1]))
            if pieces[0] + pieces[1] not in vocab_list:
                vocab_list.append(pieces[0] + pieces[1])
    vocab = {t: i for i, t in enumerate(vocab_list)}
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)  # EOS has the highest id, so argmax(input_ids) finds it as in CLIP
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n", encoding="utf-8")
    for name, content in {
        "special_tokens_map.json": {"bos_token": BOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS},
        "tokenizer_config.json": {"tokenizer_class": "CLIPTokenizer", "model_max_length": MAX_LENGTH,
                                  "do_lower_case": True, "bos_token": BOS, "eos_token": EOS, "pad_token": EOS,
                                  "unk_token": EOS},
    }.items():
        (folder / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
    return ClipTokenizer.load(folder)


if __name__ == "__main__":
    import shapes_world
    t = build(shapes_world.vocabulary_words(), "/tmp/tok")
    for p in ["a red circle on a blue background", "A  Purple STAR, top-left!", "zebra 123", "héllo wörld", ""]:
        ids, d = t.encode(p)
        print(p, ids[:14], d)
    print(len(t.encoder))
