"""GGML dequantization in numpy: the tests' independent reference.

Written from ggml's reference C (ggml-common.h: block_q4_0, block_q8_0,
block_q4_K, block_q5_K, block_q6_K; ggml-quants.c: dequantize_row_*,
get_scale_min_k4; ggml-impl.h: bf16), not from brainorg's TypeScript. All
arithmetic is float32, in the order the C code writes it.

Usage (the tests run it with `python3 -c`, so sys.argv[1:] are the arguments):
  blocks DIR TYPE...   read DIR/TYPE.bin (whole blocks), write DIR/TYPE.f32
  gguf FILE DIR        dequantize every tensor of a GGUF file to DIR/NAME.f32
Both print JSON: values written per TYPE or tensor name.
"""
import json
import struct
import sys

import numpy as np

# type name: (ggml id, values per block, bytes per block)
TYPES = {
    "F32": (0, 1, 4),
    "F16": (1, 1, 2),
    "Q4_0": (2, 32, 2 + 16),
    "Q8_0": (8, 32, 2 + 32),
    "Q4_K": (12, 256, 2 + 2 + 12 + 128),
    "Q5_K": (13, 256, 2 + 2 + 12 + 32 + 128),
    "Q6_K": (14, 256, 128 + 64 + 16 + 2),
    "BF16": (30, 1, 2),
}
BY_ID = {v[0]: k for k, v in TYPES.items()}


def f16(b):
    """(n, 2) uint8, little-endian binary16 → (n,) float32 (exact)."""
    return np.ascontiguousarray(b).view("<f2").reshape(-1).astype(np.float32)


def scale_min_k4(q):
    """get_scale_min_k4 for j = 0..7: (n, 12) uint8 → scales, mins (n, 8) uint8."""
    sc = np.empty((q.shape[0], 8), np.uint8)
    m = np.empty((q.shape[0], 8), np.uint8)
    for j in range(8):
        if j < 4:
            sc[:, j] = q[:, j] & 63
            m[:, j] = q[:, j + 4] & 63
        else:
            sc[:, j] = (q[:, j + 4] & 0xF) | ((q[:, j - 4] >> 6) << 4)
            m[:, j] = (q[:, j + 4] >> 4) | ((q[:, j] >> 6) << 4)
    return sc, m


def dequant(name, raw):
    _, bv, bb = TYPES[name]
    raw = np.frombuffer(raw, np.uint8)
    assert raw.size % bb == 0, f"{name}: {raw.size} bytes is not whole blocks of {bb}"
    b = raw.reshape(-1, bb)
    n = b.shape[0]
    if name == "F32":
        return b.copy().view("<f4").reshape(-1)
    if name == "F16":
        return f16(b)
    if name == "BF16":
        return (np.ascontiguousarray(b).view("<u2").reshape(-1).astype(np.uint32) << 16).view(np.float32)
    if name == "Q8_0":
        # y[j] = qs[j]*d
        d = f16(b[:, 0:2])
        qs = b[:, 2:34].view(np.int8).astype(np.float32)
        return (qs * d[:, None]).reshape(-1)
    if name == "Q4_0":
        # y[j] = ((qs[j] & 0x0F) - 8)*d; y[j + 16] = ((qs[j] >> 4) - 8)*d
        d = f16(b[:, 0:2])
        qs = b[:, 2:18].astype(np.int32)
        x0 = ((qs & 0x0F) - 8).astype(np.float32) * d[:, None]
        x1 = ((qs >> 4) - 8).astype(np.float32) * d[:, None]
        return np.concatenate([x0, x1], axis=1).reshape(-1)
    if name in ("Q4_K", "Q5_K"):
        d = f16(b[:, 0:2])
        dmin = f16(b[:, 2:4])
        sc, m = scale_min_k4(b[:, 4:16])
        if name == "Q4_K":
            qs = b[:, 16:144].reshape(n, 4, 32)
            lo = (qs & 0xF).astype(np.float32)
            hi = (qs >> 4).astype(np.float32)
        else:
            qh = b[:, 16:48]
            qs = b[:, 48:176].reshape(n, 4, 32)
            lo = np.empty((n, 4, 32), np.float32)
            hi = np.empty((n, 4, 32), np.float32)
            for c in range(4):
                u1, u2 = 1 << (2 * c), 2 << (2 * c)
                lo[:, c] = (qs[:, c] & 0xF) + np.where(qh & u1, 16, 0)
                hi[:, c] = (qs[:, c] >> 4) + np.where(qh & u2, 16, 0)
        # sub-block 2c: low parts of chunk c, 2c + 1: high parts
        q = np.stack([lo, hi], axis=2).reshape(n, 8, 32)
        d1 = d[:, None] * sc.astype(np.float32)  # d * sc (float)
        m1 = dmin[:, None] * m.astype(np.float32)  # min * m (float)
        return (d1[:, :, None] * q - m1[:, :, None]).astype(np.float32).reshape(-1)
    if name == "Q6_K":
        ql = b[:, 0:128].reshape(n, 2, 64).astype(np.int32)
        qh = b[:, 128:192].reshape(n, 2, 32).astype(np.int32)
        sc = b[:, 192:208].view(np.int8).reshape(n, 2, 8).astype(np.float32)
        d = f16(b[:, 208:210])
        y = np.empty((n, 2, 128), np.float32)
        l = np.arange(32)
        is_ = l // 16
        q1 = ((ql[:, :, l] & 0xF) | (((qh >> 0) & 3) << 4)) - 32
        q2 = ((ql[:, :, l + 32] & 0xF) | (((qh >> 2) & 3) << 4)) - 32
        q3 = ((ql[:, :, l] >> 4) | (((qh >> 4) & 3) << 4)) - 32
        q4 = ((ql[:, :, l + 32] >> 4) | (((qh >> 6) & 3) << 4)) - 32
        dd = d[:, None, None]
        # y = d * sc[is] * q: (d*sc) first, as C evaluates it
        y[:, :, 0:32] = (dd * sc[:, :, is_ + 0]) * q1.astype(np.float32)
        y[:, :, 32:64] = (dd * sc[:, :, is_ + 2]) * q2.astype(np.float32)
        y[:, :, 64:96] = (dd * sc[:, :, is_ + 4]) * q3.astype(np.float32)
        y[:, :, 96:128] = (dd * sc[:, :, is_ + 6]) * q4.astype(np.float32)
        return y.reshape(-1)
    raise ValueError(name)


def read_gguf(path):
    """GGUF v3 tensor infos and the start of its data: (infos, data, base)."""
    data = open(path, "rb").read()
    off = 0

    def rd(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize("<" + fmt)
        return v[0]

    def rstr():
        nonlocal off
        n = rd("Q")
        s = data[off:off + n].decode()
        off += n
        return s

    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def rval(t):
        if t == 8:
            return rstr()
        if t == 9:
            at = rd("I")
            return [rval(at) for _ in range(rd("Q"))]
        return rd(sizes[t])

    assert data[:4] == b"GGUF"
    off = 4
    assert rd("I") == 3
    nt = rd("Q")
    nkv = rd("Q")
    meta = {}
    for _ in range(nkv):
        k = rstr()
        meta[k] = rval(rd("I"))
    infos = []
    for _ in range(nt):
        name = rstr()
        shape = [rd("Q") for _ in range(rd("I"))]
        infos.append((name, shape, rd("I"), rd("Q")))
    align = meta.get("general.alignment", 32)
    return infos, data, (off + align - 1) // align * align


def main(args):
    out = {}
    if args[0] == "blocks":
        d = args[1]
        for name in args[2:]:
            y = dequant(name, open(f"{d}/{name}.bin", "rb").read())
            y.astype("<f4").tofile(f"{d}/{name}.f32")
            out[name] = int(y.size)
    elif args[0] == "gguf":
        infos, data, base = read_gguf(args[1])
        for name, shape, typ, o in infos:
            t = BY_ID[typ]
            _, bv, bb = TYPES[t]
            count = int(np.prod(shape))
            assert shape[0] % bv == 0, f"{name}: rows of {shape[0]} are not whole {t} blocks"
            y = dequant(t, data[base + o: base + o + count // bv * bb])
            y.astype("<f4").tofile(f"{args[2]}/{name}.f32")
            out[name] = int(y.size)
    else:
        raise SystemExit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
