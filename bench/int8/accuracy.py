#!/usr/bin/env python3
"""Would an int8 or bfloat16 GEMM path keep cosine >= 0.999 against float32 (issue #9)? Measured before building one.

Simulates what an AVX2 int8 path computes in every product that Rosetta runs through PackedGEMM: each row of A
(a token, a pixel) quantised on its own to unsigned 8 bits (asymmetric, the dynamic quantisation of ONNX Runtime
and FBGEMM), each output channel of W to signed bits (symmetric), products exact in int32, then dequantised.
Weights are tried at 8 bits and at 7: without VNNI (these AVX2 cores have none) the int8 instruction,
vpmaddubsw, adds two u8·s8 products into a saturating int16, so 8-bit weights can overflow and a real kernel has
to keep 7 (ONNX Runtime's `reduce_range`). Attention, softmax, layer norms, the depthwise convolutions stay float32.
Also SmoothQuant (Xiao et al. 2023: activations' per-channel range moved into the weights, calibrated on other
sentences) for the text encoder, and bfloat16 (weights and inputs rounded, float32 sums: AVX512-BF16's vdpbf16ps,
which the AVX-512 machines here have, at twice the multiply-adds per instruction of float32).

Reports the cosine between the float32 and the simulated int8 or bfloat16 outputs: sentence embeddings (mean pooling,
normalised) of all-MiniLM-L6-v2 over real and random sentences, logits and class probabilities of
EfficientNet-Lite0 over the committed photos. Runs in the bench venvs (`make bench-int8`):
  bench/text/.venv/bin/python bench/int8/accuracy.py text --model models/all-minilm-l6-v2
  bench/vision/.venv/bin/python bench/int8/accuracy.py vision --model models/efficientnet-lite0
"""
import argparse
import glob
import json
import os
import random
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PHOTOS = os.path.join(REPO, "Tests", "Fixtures", "images", "photos")
BF16 = "bfloat16 weights and inputs"


def quantise_weight(w, bits):
    """Per output channel (row of W), symmetric: round(w / s) in [-q, q], q = 2^(bits-1) - 1."""
    q = 2 ** (bits - 1) - 1
    s = w.abs().amax(1, keepdim=True).clamp(min=1e-12) / q
    return (w / s).round().clamp(-q, q) * s


def quantise_rows(x, dim):
    """Each row on its own (reduced along `dim`) to u8 with a zero point; the range always includes 0."""
    lo = x.amin(dim, keepdim=True).clamp(max=0)
    hi = x.amax(dim, keepdim=True).clamp(min=0)
    s = (hi - lo).clamp(min=1e-12) / 255
    z = (-lo / s).round()
    return (((x / s).round() + z).clamp(0, 255) - z) * s


def to_bfloat16(x):
    """Rounded to bfloat16 (nearest even) and back: what an AVX512-BF16 kernel (vdpbf16ps) multiplies; its sums
    stay float32."""
    return x.to(torch.bfloat16).to(x.dtype)


def quantise(layers, weight_bits, dim, smooth=None):
    """Fake-quantises the layers' weights and inputs (weight_bits "bf16": both rounded to bfloat16); returns a
    function that undoes it."""
    saved, hooks = {}, []
    for name, layer in layers.items():
        w = layer.weight.data
        saved[name] = w.clone()
        if weight_bits == "bf16":
            layer.weight.data = to_bfloat16(w)
            hooks.append(layer.register_forward_pre_hook(lambda m, inp: (to_bfloat16(inp[0]),)))
            continue
        flat = w.reshape(w.shape[0], -1)
        s = smooth.get(name) if smooth else None
        if s is not None:
            layer.weight.data = (quantise_weight(flat * s, weight_bits) / s).reshape(w.shape)
            hooks.append(layer.register_forward_pre_hook(lambda m, inp, s=s: (quantise_rows(inp[0] / s, dim) * s,)))
        else:
            layer.weight.data = quantise_weight(flat, weight_bits).reshape(w.shape)
            hooks.append(layer.register_forward_pre_hook(lambda m, inp: (quantise_rows(inp[0], dim),)))

    def restore():
        for h in hooks:
            h.remove()
        for name, layer in layers.items():
            layer.weight.data = saved[name]
    return restore


def text(args):
    from transformers import BertModel, BertTokenizerFast
    tok = BertTokenizerFast.from_pretrained(args.model)
    model = BertModel.from_pretrained(args.model).eval()
    words = [w for w in open(os.path.join(args.model, "vocab.txt")).read().split("\n") if w.isalpha() and len(w) > 2]
    real = list(json.load(open(os.path.join(PHOTOS, "captions.json"))).values()) + [
        "How do I reset my password?", "The stock market fell sharply after the announcement.",
        "Photosynthesis converts light energy into chemical energy.", "query: boiling point of water at sea level",
        "Error 404: the requested page could not be found on this server.", "1234 5678 90"]
    rng = random.Random(0)
    sentences = real + [" ".join(rng.choice(words) for _ in range(rng.randint(3, 120))) for _ in range(60)]
    calibration = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 60))) for _ in range(40)]
    batch = tok(sentences, padding=True, truncation=True, max_length=256, return_tensors="pt")
    mask = batch["attention_mask"].unsqueeze(-1).float()

    def embed():
        with torch.inference_mode():
            h = model(**batch).last_hidden_state
        return torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1)

    layers = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and "pooler" not in n}
    # SmoothQuant's per-input-channel ranges, from other sentences than the measured ones.
    ranges = {}
    hooks = [m.register_forward_pre_hook(lambda m, inp, n=n: ranges.__setitem__(
        n, torch.maximum(ranges.get(n, torch.zeros(inp[0].shape[-1])), inp[0].abs().reshape(-1, inp[0].shape[-1]).amax(0))))
        for n, m in layers.items()]
    with torch.inference_mode():
        model(**tok(calibration, padding=True, return_tensors="pt"))
    for h in hooks:
        h.remove()
    smooth = {n: ranges[n].clamp(min=1e-5).sqrt() / m.weight.data.abs().amax(0).clamp(min=1e-5).sqrt()
              for n, m in layers.items()}

    reference = embed()
    rows = []
    for label, bits, s in [("8-bit weights", 8, None), ("7-bit weights (no VNNI)", 7, None),
                           ("8-bit weights + SmoothQuant", 8, smooth), ("7-bit weights + SmoothQuant", 7, smooth),
                           (BF16, "bf16", None)]:
        restore = quantise(layers, bits, dim=-1, smooth=s)
        cos = (reference * embed()).sum(-1)
        restore()
        rows.append({"model": "all-MiniLM-L6-v2", "variant": label, "items": len(sentences),
                     "min": cos.min().item(), "mean": cos.mean().item()})
    return rows


def vision(args):
    import numpy as np
    from PIL import Image
    from efficientnet_lite_pytorch import EfficientNet
    # The golden tests' preprocessing (decode, shorter side to 256, centre 224, normalisation).
    sys.path.insert(0, os.path.join(REPO, "models"))
    from reference_vision import MEAN, STD, on_white, pipeline
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=os.path.join(args.model, "efficientnet-lite0.pth")).eval()
    images = []
    for path in sorted(glob.glob(os.path.join(PHOTOS, "*.jpg"))):
        rgb = (np.asarray(pipeline(on_white(Image.open(path))), dtype=np.float32) / 255 - MEAN) / STD
        images.append(torch.from_numpy(rgb).permute(2, 0, 1))
    x = torch.stack(images)

    def logits():
        with torch.inference_mode():
            return model(x)

    layers = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)}
    reference = logits()
    rows = []
    for label, bits in [("8-bit weights", 8), ("7-bit weights (no VNNI)", 7), (BF16, "bf16")]:
        restore = quantise(layers, bits, dim=1)  # a pixel's channels: dim 1 of NCHW
        out = logits()
        restore()
        cos = torch.nn.functional.cosine_similarity(reference, out, dim=-1)
        prob = torch.nn.functional.cosine_similarity(reference.softmax(-1), out.softmax(-1), dim=-1)
        same = (reference.argmax(-1) == out.argmax(-1)).sum().item()
        rows.append({"model": "EfficientNet-Lite0 (logits)", "variant": label, "items": len(images),
                     "min": cos.min().item(), "mean": cos.mean().item(),
                     "detail": f"probabilities min {prob.min().item():.4f}; same top-1 {same}/{len(images)}"})
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("encoder", choices=["text", "vision"])
    p.add_argument("--model", required=True)
    p.add_argument("--markdown", default="")
    args = p.parse_args()
    torch.manual_seed(0)
    rows = text(args) if args.encoder == "text" else vision(args)
    for r in rows:
        print(json.dumps(r))
    if args.markdown:
        sys.path.insert(0, os.path.dirname(HERE))
        import markdown
        table = markdown.table(["model", "simulated", "items", "cosine min", "cosine mean", "notes"],
                               [[r["model"], r["variant"], r["items"], f"{r['min']:.5f}", f"{r['mean']:.5f}",
                                 r.get("detail", "")] for r in rows])
        holds = [r for r in rows if r["min"] >= 0.999]
        markdown.append(args.markdown, f"int8 accuracy: {rows[0]['model']} (bench/int8)",
                        "Cosine to float32 with every PackedGEMM product in simulated int8 (rows of A u8 per row, "
                        "W per output channel) or bfloat16 (weights and inputs rounded, float32 sums; "
                        "bench/int8/accuracy.py). A lower-precision path is worth building only where the "
                        "minimum holds >= 0.999.\n\n" + table + "\n\n"
                        + (f"Holds cosine >= 0.999: {', '.join(r['variant'] for r in holds)}." if holds else
                           "No variant holds cosine >= 0.999: Rosetta keeps float32 for this model."))


if __name__ == "__main__":
    sys.exit(main())
