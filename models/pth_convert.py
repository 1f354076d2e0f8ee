#!/usr/bin/env python3
"""models/pth_convert.py — PyTorch .pth state dict -> safetensors, in pure Python (no torch, no numpy).

Reads both checkpoint layouts torch.save has written:
  * legacy (torch < 1.6, e.g. efficientnet-lite0-57934424.pth): a stream of pickles on one file —
      magic number 0x1950a86a20f9469cfc6c, protocol version 1001, sys-info dict, the object (a state dict
      whose tensors refer to storages through persistent ids
      ('storage', <Type>Storage, key, location, numel[, view_metadata])), the list of storage keys;
      then, for each key in that order, an int64 little-endian element count and the raw little-endian
      elements;
  * zip (torch >= 1.6): archive/data.pkl with the same persistent ids, storages in archive/data/<key>.
Tensors are rebuilt by torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) — the only
callable the unpickler resolves besides OrderedDict and _rebuild_parameter (and numpy scalars/dtypes in metadata
next to the state dict, read as placeholders); anything else is refused. A (state_dict, metadata) tuple gives its
state dict.

Writes safetensors (https://github.com/huggingface/safetensors): u64 LE header length, JSON header
{name: {"dtype": "F32"|..., "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
tensors contiguous in row-major order, in sorted-name order, header padded with spaces to 8 bytes.
Integer buffers (BatchNorm num_batches_tracked, int64) are dropped unless --keep-int.

Usage: models/pth_convert.py IN.pth OUT.safetensors [--expect-count N] [--keep-int]
As a module: load_state_dict(path) -> {name: Tensor}; write_safetensors(path, tensors, metadata).
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# storage type -> (struct code, bytes per element, safetensors dtype)
STORAGE_TYPES = {
    "FloatStorage": ("f", 4, "F32"), "DoubleStorage": ("d", 8, "F64"), "HalfStorage": ("e", 2, "F16"),
    "LongStorage": ("q", 8, "I64"), "IntStorage": ("i", 4, "I32"), "ShortStorage": ("h", 2, "I16"),
    "CharStorage": ("b", 1, "I8"), "ByteStorage": ("B", 1, "U8"), "BoolStorage": ("?", 1, "BOOL"),
}


class ConvertError(Exception):
    pass


class Storage:
    """Raw little-endian bytes of one torch storage."""
    def __init__(self, type_name, numel):
        if type_name not in STORAGE_TYPES:
            raise ConvertError(f"unsupported storage type {type_name}")
        self.type_name = type_name
        self.code, self.itemsize, self.dtype = STORAGE_TYPES[type_name]
        self.numel = numel
        self.data = None


class Tensor:
    """A strided view of a storage; `contiguous_bytes()` gathers it in row-major order."""
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)

    @property
    def dtype(self):
        return self.storage.dtype

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def contiguous_bytes(self):
        data, size = self.storage.data, self.storage.itemsize
        if data is None:
            raise ConvertError("storage data was never read")
        n = self.numel()
        expected, step = [], 1
        for s in reversed(self.shape):
            expected.insert(0, step)
            step *= s
        if n == 0:
            return b""
        if list(self.stride) == expected or len(self.shape) == 0:
            begin = self.offset * size
            return bytes(data[begin:begin + n * size])
        out = bytearray()
        index = [0] * len(self.shape)
        for _ in range(n):
            at = self.offset + sum(i * st for i, st in zip(index, self.stride))
            out += data[at * size:(at + 1) * size]
            for axis in reversed(range(len(self.shape))):
                index[axis] += 1
                if index[axis] < self.shape[axis]:
                    break
                index[axis] = 0
        return bytes(out)


def _rebuild_tensor_v2(storage, offset, size, stride, *rest):
    return Tensor(storage, offset, size, stride)


class _Opaque:
    """A value the unpickler met beside the tensors (numpy metadata): kept out of the conversion."""
    def __init__(self, kind):
        self.kind = kind

    def __setstate__(self, state):
        pass


class _Unpickler(pickle.Unpickler):
    """Resolves only what a state dict needs; every storage seen is recorded by key."""
    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad, hooks, *rest: data
        if module == "torch" and name.endswith("Storage"):
            return name
        # Metadata beside a state dict (aisfx saves (state_dict, {dataset: (index, np.int64 classes)})): numpy
        # scalars become inert placeholders; they are never written out.
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "scalar":
            return lambda dtype, data=None: _Opaque("numpy scalar")
        if module == "_codecs" and name == "encode":  # how protocol-2 pickles spell the bytes of a numpy scalar
            return lambda text, encoding="latin1": text.encode(encoding)
        if module == "numpy" and name == "dtype":
            return lambda *args: _Opaque("numpy dtype")
        raise ConvertError(f"checkpoint refers to {module}.{name}, which a plain state dict never does")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise ConvertError(f"unexpected persistent id {pid!r}")
        type_name, key, numel = pid[1], str(pid[2]), pid[4]
        if len(pid) > 5 and pid[5] is not None:
            raise ConvertError(f"storage {key}: storage views are not supported")
        if key not in self.storages:
            self.storages[key] = Storage(type_name, numel)
        return self.storages[key]


def _load_legacy(f):
    storages = {}
    magic = pickle.load(f)
    if magic != LEGACY_MAGIC:
        raise ConvertError("not a torch checkpoint (bad magic number)")
    protocol = pickle.load(f)
    if protocol != LEGACY_PROTOCOL:
        raise ConvertError(f"legacy protocol version {protocol}, expected {LEGACY_PROTOCOL}")
    sys_info = pickle.load(f)
    if not sys_info.get("little_endian", True):
        raise ConvertError("big-endian checkpoints are not supported")
    obj = _Unpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise ConvertError(f"storage {key} listed but not referenced")
        (numel,) = struct.unpack("<q", f.read(8))
        if numel != storage.numel:
            raise ConvertError(f"storage {key}: {numel} elements on disk, {storage.numel} declared")
        storage.data = f.read(numel * storage.itemsize)
        if len(storage.data) != numel * storage.itemsize:
            raise ConvertError(f"storage {key}: file truncated")
    return obj


def _load_zip(path):
    storages = {}
    with zipfile.ZipFile(path) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise ConvertError("zip checkpoint without data.pkl")
        prefix = pkl[0][: -len("data.pkl")]
        obj = _Unpickler(io.BytesIO(z.read(pkl[0])), storages).load()
        for key, storage in storages.items():
            storage.data = z.read(f"{prefix}data/{key}")
            if len(storage.data) < storage.numel * storage.itemsize:
                raise ConvertError(f"storage {key}: {len(storage.data)} bytes, need {storage.numel * storage.itemsize}")
    return obj


def load_state_dict(path):
    """{name: Tensor} of a .pth file; a {'state_dict': ...} wrapper is unwrapped."""
    if zipfile.is_zipfile(path):
        obj = _load_zip(path)
    else:
        with open(path, "rb") as f:
            obj = _load_legacy(f)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if isinstance(obj, (tuple, list)) and obj and isinstance(obj[0], dict):
        obj = obj[0]  # (state_dict, metadata...), as aisfx saves it
    if not isinstance(obj, dict) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise ConvertError("checkpoint is not a state dict of tensors")
    return obj


def write_safetensors(path, tensors, metadata=None):
    header, offset = {}, 0
    names = sorted(tensors)
    for name in names:
        t = tensors[name]
        nbytes = t.numel() * t.storage.itemsize
        header[name] = {"dtype": t.dtype, "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blob = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    blob += b" " * (-len(blob) % 8)
    tmp = path + ".part"
    with open(tmp, "wb") as out:
        out.write(struct.pack("<Q", len(blob)))
        out.write(blob)
        for name in names:
            out.write(tensors[name].contiguous_bytes())
    os.replace(tmp, path)


def convert(src, dst, expect_count=None, keep_int=False):
    """Converts; returns {name: shape} of what was written. Raises ConvertError on any mismatch."""
    state = load_state_dict(src)
    kept = {k: v for k, v in state.items() if keep_int or v.dtype in ("F32", "F16", "F64")}
    if expect_count is not None and len(kept) != expect_count:
        raise ConvertError(f"{src}: expected {expect_count} tensors, got {len(kept)}")
    for name, t in kept.items():
        if t.offset + (t.numel() and sum((s - 1) * st for s, st in zip(t.shape, t.stride)) + 1) > t.storage.numel:
            raise ConvertError(f"{name}: shape {list(t.shape)} overruns its storage")
    write_safetensors(dst, kept, {"format": "pt"})
    return {k: list(v.shape) for k, v in kept.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--expect-count", type=int)
    p.add_argument("--keep-int", action="store_true")
    a = p.parse_args()
    try:
        shapes = convert(a.src, a.dst, a.expect_count, a.keep_int)
    except (ConvertError, OSError, pickle.UnpicklingError, EOFError, struct.error) as e:
        print(f"pth_convert: {a.src}: {e}", file=sys.stderr)
        return 1
    print(f"pth_convert: wrote {len(shapes)} tensors to {a.dst}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
