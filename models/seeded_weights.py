"""The counter-based weights of the CLIP and SigLIP goldens (see reference_clip.py's docstring for the rule), in numpy only,
shared by models/reference_clip.py (transformers' CLIPModel), models/reference_siglip.py (SiglipModel; logit_bias is
−10 and in_proj_bias a bias) and the tests that need the same checkpoint as files
(clients/python/tests/test_hub.py serves it from a mock Hugging Face Hub). Tests/VisionTests/CLIPGoldenTests.swift
draws the same values in Swift."""
import json
import struct

import numpy as np


def splitmix_uniform(k, n):
    i = np.arange(n, dtype=np.uint64)
    z = (np.uint64(k) << np.uint64(32)) + i
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) / float(1 << 24) * 2 - 1).astype(np.float32)


def seeded_value(name, shape, k):
    n = int(np.prod(shape)) if shape else 1
    if name == "logit_scale":
        return np.full(shape, 2.6592, dtype=np.float32)
    if name == "logit_bias":
        return np.full(shape, -10.0, dtype=np.float32)
    u = splitmix_uniform(k, n)
    if ("layer_norm" in name or "layernorm" in name or "layrnorm" in name) and name.endswith(".weight"):
        v = 1 + 0.1 * u
    elif name.endswith(".bias") or name.endswith("_bias"):
        v = 0.02 * u
    elif "embedding" in name:
        v = 0.1 * u
    else:
        v = u / np.float32(np.sqrt(shape[-1] if len(shape) == 2 else np.prod(shape[1:])))
    return v.astype(np.float32).reshape(shape)


def seeded_safetensors(tensors):
    """model.safetensors bytes for [(name, shape), ...] (tensors.json order = generator order k)."""
    header, blobs, offset = {}, [], 0
    for k, (name, shape) in enumerate(tensors):
        data = seeded_value(name, shape, k).tobytes()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, sort_keys=True).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs)
