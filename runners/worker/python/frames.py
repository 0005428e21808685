"""Messages as they travel (../PROTOCOL.md, "Envelope" and "Features").

A message is one JSON line. With the binary feature, bulk numeric arrays
may travel in an attachment after the line instead: the envelope's "bin" is
its length, and each array is written {"bin": [offset, length]} (hidden
states also {"width": w}): length little-endian elements of the field's
type at byte offset of the attachment. Which type is the field's name's:
"tokens" u32, "logprobs" f32, "trace" f64, "hidden" f32.

    resolve(params, att)                     the arrays of a received message, as lists
    encode(rid, result, binary)              a response's bytes: its line, its attachment
    encode_request(rid, method, params, bin) a request's bytes, the same way
"""

import array
import json
import sys

TYPECODES = {"tokens": "I", "logprobs": "f", "trace": "d", "hidden": "f"}
for _code in set(TYPECODES.values()):
    assert array.array(_code).itemsize in (4, 8), "this platform's array sizes are not the protocol's"


def _nested(value):
    """Whether a list holds objects or lists worth walking into (a list of
    numbers is left as it is: walking 8,192 token ids costs)."""
    return bool(value) and isinstance(value[0], (dict, list))


def _read(code, att, ref):
    off, n = ref
    size = array.array(code).itemsize
    if not (isinstance(off, int) and isinstance(n, int)) or off < 0 or n < 0 or off + n * size > len(att):
        raise ValueError(f"attachment reference {ref} of {size}-byte elements is outside the {len(att)}-byte attachment")
    a = array.array(code)
    a.frombytes(att[off : off + n * size])
    if sys.byteorder != "little":
        a.byteswap()
    return a.tolist()


def resolve(value, att, key=None):
    """value with every attachment reference replaced by the list it names
    (a list of vectors for "hidden"). Raises ValueError for a bad one."""
    if isinstance(value, dict):
        if key in TYPECODES and isinstance(value.get("bin"), list) and len(value["bin"]) == 2:
            xs = _read(TYPECODES[key], att, value["bin"])
            if key != "hidden":
                return xs
            w = value.get("width")
            if not isinstance(w, int) or w <= 0 or len(xs) % w:
                raise ValueError(f"hidden states: {len(xs)} numbers in rows of width {w}")
            return [xs[i : i + w] for i in range(0, len(xs), w)]
        return {k: resolve(v, att, k) for k, v in value.items()}
    if isinstance(value, list) and _nested(value):
        return [resolve(v, att, key) for v in value]
    return value


class _Attachment:
    def __init__(self):
        self.parts, self.size = [], 0

    def put(self, raw, n, width=None):
        ref = {"bin": [self.size, n]}
        if width is not None:
            ref["width"] = width
        self.parts.append(raw)
        self.size += len(raw)
        return ref


def _le(code, values):
    a = array.array(code, values)
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def pack(value, att=None, key=None):
    """value ready for JSON: its bulk arrays put in att when there is one
    (the binary feature), torch tensors made lists when not."""
    torch = sys.modules.get("torch")  # imported by hello; frames itself must not need it
    if torch is not None and isinstance(value, torch.Tensor):
        if att is not None and key == "hidden" and value.dim() == 2 and value.shape[0] > 0 and value.shape[1] > 0:
            raw = value.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()
            return att.put(raw, value.numel(), value.shape[1])
        return value.tolist()
    if isinstance(value, dict):
        return {k: pack(v, att, k) for k, v in value.items()}
    if isinstance(value, list):
        if att is not None and key in ("tokens", "logprobs", "trace") and value and not _nested(value):
            return att.put(_le(TYPECODES[key], value), len(value))
        if _nested(value):
            return [pack(v, att, key) for v in value]
    return value


def encode(rid, result=None, error=None, binary=False):
    """A response's bytes: its line (and newline), then its attachment."""
    if error:
        return json.dumps({"id": rid, "error": error}, allow_nan=False, separators=(",", ":")).encode() + b"\n"
    return _framed({"id": rid}, "result", result, binary)


def encode_request(rid, method, params, binary=False):
    """A request's bytes as relix writes them (a client of this worker,
    such as gpu_check.py, sends them)."""
    return _framed({"id": rid, "method": method}, "params", params, binary)


def _framed(body, key, value, binary):
    att = _Attachment() if binary else None
    body[key] = pack(value, att)
    if att is not None and att.size:
        body["bin"] = att.size
    line = json.dumps(body, allow_nan=False, separators=(",", ":")).encode() + b"\n"
    return line + b"".join(att.parts) if att is not None else line


def read_exactly(stream, n):
    """The n bytes of an attachment; fewer means relix went away mid-message."""
    chunks, left = [], n
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError(f"the attachment ends after {n - left} of its {n} bytes")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
