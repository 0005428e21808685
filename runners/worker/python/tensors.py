"""Checkpoint files in the safetensors format
(https://github.com/huggingface/safetensors#format):

    8 bytes   little-endian length N of the header
    N bytes   JSON header: {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}},
              padded with spaces to a multiple of 8
    ...       the tensors' raw little-endian bytes, back to back

Where the safetensors package imports, it writes and reads them (a load
maps the file and reads each tensor from the mapping, so a 60 GB optimizer
file is not read into memory twice). Where it does not (Debian ships no
safetensors), the writer and reader here do. Each reads the other's files:
the package orders the tensors by dtype, then name, and the writer here by
name alone, so the bytes may differ while the tensors and metadata are the
same.

    save(path, tensors, metadata)    written to a temporary file, then renamed
    load(path) -> (tensors, metadata)
"""

import importlib
import json
import os
import struct

import torch

DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}
BY_NAME = {v: k for k, v in DTYPES.items()}


class Package:
    """The safetensors package: safetensors.torch.save_file and safe_open."""

    name = "safetensors package"

    def __init__(self, st_torch, safe_open):
        self.st_torch, self.safe_open = st_torch, safe_open

    def save(self, path, tensors, metadata=None):
        tmp = _tmp(path)
        meta = {k: str(v) for k, v in metadata.items()} if metadata else None
        self.st_torch.save_file({n: t.detach().to("cpu").contiguous() for n, t in tensors.items()}, tmp, metadata=meta)
        _sync_and_rename(tmp, path)

    def load(self, path):
        with self.safe_open(path, framework="pt", device="cpu") as f:
            return {name: f.get_tensor(name) for name in f.keys()}, dict(f.metadata() or {})


class Fallback:
    """This module's own writer and reader."""

    name = "built-in safetensors writer"

    def save(self, path, tensors, metadata=None):
        header, blobs, offset = {}, [], 0
        if metadata:
            header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
        for name in sorted(tensors):
            t = tensors[name]
            b = _bytes(t)
            header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
            blobs.append(b)
            offset += len(b)
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)  # the format pads the header to 8 bytes
        write_atomic(path, struct.pack("<Q", len(h)) + h + b"".join(blobs))

    def load(self, path):
        with open(path, "rb") as f:
            data = f.read()
        return parse(data)


def parse(data):
    """A safetensors file's bytes: (name -> tensor on the CPU, metadata)."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    body = memoryview(data)[8 + n :]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = BY_NAME[info["dtype"]]
        raw = bytearray(body[begin:end])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out, meta


def choose(import_module=importlib.import_module):
    """The package where it imports, else the fallback."""
    try:
        st_torch = import_module("safetensors.torch")
        safe_open = import_module("safetensors").safe_open
    except (ImportError, AttributeError):
        return Fallback()
    return Package(st_torch, safe_open)


IMPL = choose()


def save(path, tensors, metadata=None):
    """Writes tensors (name -> tensor) to path: a temporary file, then a
    rename, so a reader never sees half a file and hard links to an old file
    keep the old bytes."""
    IMPL.save(path, tensors, metadata)


def load(path):
    """Reads a safetensors file: (name -> tensor on the CPU, metadata)."""
    return IMPL.load(path)


def _bytes(t):
    t = t.detach().to("cpu").contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: the same bits as int16
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def _tmp(path):
    return f"{path}.tmp-{os.getpid()}"


def _sync_and_rename(tmp, path):
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_atomic(path, data):
    tmp = _tmp(path)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
