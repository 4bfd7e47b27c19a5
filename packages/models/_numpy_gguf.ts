/**
 * Test support: a numpy GGUF reader, the shared head of the tests'
 * independent numpy references, so that they do not go through the
 * TypeScript reader they check.
 *
 * @module
 */

/**
 * Python source that reads the F32 GGUF file named by `sys.argv[1]` and
 * leaves `meta` (key -> value) and `T` (tensor name -> float32 array of
 * the reversed GGUF shape, e.g. [rows, cols] for a ggml [cols, rows]
 * matrix) in scope; also imports json, struct, sys and numpy as np.
 * Prepend it to a script; it asserts every tensor is F32.
 */
export const NUMPY_GGUF_F32 = `
import json, struct, sys, numpy as np
data = open(sys.argv[1], "rb").read(); off = 0
def rd(fmt):
    global off
    v = struct.unpack_from("<" + fmt, data, off); off += struct.calcsize("<" + fmt); return v[0]
def rstr():
    global off
    n = rd("Q"); s = data[off:off + n].decode(); off += n; return s
def rval(t):
    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
    if t == 8: return rstr()
    if t == 9:
        at = rd("I"); n = rd("Q"); return [rval(at) for _ in range(n)]
    return rd(sizes[t])
assert data[:4] == b"GGUF"; off = 4
rd("I"); nt = rd("Q"); nkv = rd("Q"); meta = {}
for _ in range(nkv):
    k = rstr(); meta[k] = rval(rd("I"))
infos = []
for _ in range(nt):
    name = rstr(); nd = rd("I"); shape = [rd("Q") for _ in range(nd)]; typ = rd("I"); o = rd("Q")
    assert typ == 0, f"{name}: ggml type {typ}, expected F32 (0)"; infos.append((name, shape, o))
align = meta.get("general.alignment", 32); base = (off + align - 1) // align * align
T = {n: np.frombuffer(data, np.float32, int(np.prod(s)), base + o).reshape(list(reversed(s))) for n, s, o in infos}
`;

/**
 * Python source of an independent Llama-family forward pass, one token at a
 * time in float64, over the F32 GGUF `sys.argv[1]` for the token ids in the
 * JSON list `sys.argv[2]`: prints `[token][layer][unit]`, each block's FFN
 * output (dim wide). Keys by `general.architecture`, RoPE base from the
 * metadata (default 10000), q/k/v biases where present, NeoX pairs for qwen2.
 */
export const NUMPY_FORWARD: string = NUMPY_GGUF_F32 + `
T = {n: a.astype(np.float64) for n, a in T.items()}
A = meta["general.architecture"] + "."; neox = A == "qwen2."
dim = meta[A + "embedding_length"]; H = meta[A + "attention.head_count"]; KV = meta[A + "attention.head_count_kv"]
L = meta[A + "block_count"]; eps = meta[A + "attention.layer_norm_rms_epsilon"]; theta = meta.get(A + "rope.freq_base", 10000.0)
hd = dim // H
def rms(x, w): return w * x / np.sqrt(np.mean(x * x) + eps)
def rope(v, p):
    v = v.copy()
    for h in range(0, len(v), hd):
        for j in range(hd // 2):
            a, b = (h + j, h + j + hd // 2) if neox else (h + 2 * j, h + 2 * j + 1)
            fr = theta ** (-2.0 * j / hd); c, s = np.cos(p * fr), np.sin(p * fr)
            v[a], v[b] = v[a] * c - v[b] * s, v[a] * s + v[b] * c
    return v
tokens = json.loads(sys.argv[2]); K = [[] for _ in range(L)]; Vc = [[] for _ in range(L)]; out = []
for p, t in enumerate(tokens):
    x = T["token_embd.weight"][t]; ffn = []
    for l in range(L):
        g = lambda n: T[f"blk.{l}.{n}"]
        bias = lambda n: T.get(f"blk.{l}.{n}.bias", 0.0)
        xb = rms(x, g("attn_norm.weight"))
        q = rope(g("attn_q.weight") @ xb + bias("attn_q"), p); k = rope(g("attn_k.weight") @ xb + bias("attn_k"), p)
        v = g("attn_v.weight") @ xb + bias("attn_v"); K[l].append(k); Vc[l].append(v); o = np.zeros(dim)
        for h in range(H):
            kh = h // (H // KV)
            ks = np.array([kk[kh * hd:(kh + 1) * hd] for kk in K[l]]); vs = np.array([vv[kh * hd:(kh + 1) * hd] for vv in Vc[l]])
            a = ks @ q[h * hd:(h + 1) * hd] / np.sqrt(hd); a = np.exp(a - a.max()); a /= a.sum()
            o[h * hd:(h + 1) * hd] = a @ vs
        x = x + g("attn_output.weight") @ o
        xb = rms(x, g("ffn_norm.weight")); h1 = g("ffn_gate.weight") @ xb; h3 = g("ffn_up.weight") @ xb
        d = g("ffn_down.weight") @ (h1 / (1 + np.exp(-h1)) * h3); ffn.append(d.tolist()); x = x + d
    out.append(ffn)
print(json.dumps(out))
`;
