#!/usr/bin/env python3
"""models/reference_clip.py — golden outputs of transformers' CLIPModel (ViT-B/32 config, seeded weights).

Run in a venv with torch, transformers, numpy, ftfy and regex (open_clip's tokenizer needs them):
  python models/reference_clip.py --bpe open_clip/bpe_simple_vocab_16e6.txt.gz

No CLIP weights can be downloaded here, so the model is transformers.CLIPModel built from the real
openai/clip-vit-base-patch32 configuration (Tests/Fixtures/clip/config.json) with weights drawn from a
counter-based generator that the Swift tests reproduce bit for bit (no weights are committed):
  tensors in sorted-name order k = 0, 1, …; element i (row-major) of tensor k:
    z = splitmix64((k << 32) + i)  (z += 0x9E3779B97F4A7C15; z = (z ^ z>>30)·0xBF58476D1CE4E5B9;
                                     z = (z ^ z>>27)·0x94D049BB133111EB; z ^= z>>31)
    u = (z >> 40) / 2^24 · 2 − 1                          (uniform in [−1, 1))
    value = 1 + 0.1·u for LayerNorm weights, 0.02·u for biases, 0.1·u for embeddings (token, position,
            class, patch), u / √fan_in for other matrices, 2.6592 (ln 1/0.07) for logit_scale.
With --small, the same at toy size (SMALL: 2 layers, width 64/96; files config_small.json, tensors_small.json,
golden_small.json), for the test that `swift test` runs by default.
Writes Tests/Fixtures/clip/: config.json, tensors.json ([name, shape] in generator order), merges.txt (the
BPE merges of OpenAI's vocabulary, MIT; vocab.json is rebuilt from them), golden.json:
  {"tokens": [{"text", "ids"}], "texts": [{"text", "ids", "text_embeds" [512]}],
   "images": [{"name", "image_embeds" [512], "patch_embeds_head" [3][512]}], "logit_scale"}
Image inputs are the committed 224x224 crops Tests/Fixtures/images/pipeline/<name>.rgb normalised with CLIP's
mean/std. Optionally --save DIR writes the whole checkpoint folder (model.safetensors, ~600 MB) for by-hand runs.
"""
import argparse
import gzip
import json
import os

import numpy as np
import torch

from seeded_weights import seeded_value

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "Fixtures", "clip")
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)

CONFIG = {
    "model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": 512, "logit_scale_init_value": 2.6592,
    "text_config": {"vocab_size": 49408, "hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8,
                    "num_hidden_layers": 12, "max_position_embeddings": 77, "hidden_act": "quick_gelu",
                    "layer_norm_eps": 1e-5, "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 1,
                    "projection_dim": 512},
    "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                      "num_hidden_layers": 12, "image_size": 224, "patch_size": 32, "num_channels": 3,
                      "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 512},
}

# The same architecture at toy size, for the golden test `swift test` runs by default (seconds, not minutes).
SMALL = {**CONFIG, "projection_dim": 64,
         "text_config": {**CONFIG["text_config"], "hidden_size": 64, "intermediate_size": 256, "num_attention_heads": 4,
                         "num_hidden_layers": 2, "projection_dim": 64},
         "vision_config": {**CONFIG["vision_config"], "hidden_size": 96, "intermediate_size": 384,
                           "num_attention_heads": 4, "num_hidden_layers": 2, "projection_dim": 64}}

TEXTS = ["a photo of a cat", "A ginger tabby cat looking to the side.", "a cup of coffee on a saucer",
         "Rosetta turns text, images & audio into vectors!", "the year 2024: 3 dogs, 12 cats",
         "don't stop — it's fine; we'll see. naïve café déjà vu"]
TOKEN_ONLY = ["", "  multiple   spaces\tand\nnewlines ", "UPPER lower MiXeD", "emoji 🙂👍 and 中文字符",
              "a&amp;b &lt;tag&gt;", "hyphen-ated words, commas; and... dots", "it's they're we've I'm you'll he'd",
              "x" * 300, " ".join(["word"] * 100)]


def bpe_files(bpe_gz):
    """merges.txt and vocab.json as OpenAI's SimpleTokenizer builds them from bpe_simple_vocab_16e6.txt.gz."""
    lines = gzip.open(bpe_gz).read().decode("utf-8").split("\n")
    merges = lines[1:49152 - 256 - 2 + 1]
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    vocab = [chr(c) for c in cs]
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m.split()) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    return "#version: 0.2\n" + "\n".join(merges) + "\n", {v: i for i, v in enumerate(vocab)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bpe", required=True, help="bpe_simple_vocab_16e6.txt.gz (open-clip-torch wheel)")
    p.add_argument("--save", help="also write a checkpoint folder here")
    p.add_argument("--small", action="store_true", help="the toy configuration: files *_small.json")
    a = p.parse_args()
    global CONFIG
    suffix = "_small" if a.small else ""
    if a.small:
        CONFIG = SMALL
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    os.makedirs(OUT, exist_ok=True)
    merges, vocab = bpe_files(a.bpe)
    with open(os.path.join(OUT, "merges.txt"), "w", encoding="utf-8") as f:
        f.write(merges)
    with open(os.path.join(OUT, f"config{suffix}.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    import tempfile
    tok_dir = tempfile.mkdtemp()  # HF tokenizer files (vocab.json is big and derived: not committed)
    json.dump(vocab, open(os.path.join(tok_dir, "vocab.json"), "w"))
    open(os.path.join(tok_dir, "merges.txt"), "w", encoding="utf-8").write(merges)
    tokenizer = CLIPTokenizer(os.path.join(tok_dir, "vocab.json"), os.path.join(tok_dir, "merges.txt"))

    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(**CONFIG)).eval()
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("position_ids")}
    names = sorted(state)
    with torch.no_grad():
        for k, name in enumerate(names):
            state[name].copy_(torch.from_numpy(seeded_value(name, list(state[name].shape), k)))
    json.dump([[n, list(state[n].shape)] for n in names], open(os.path.join(OUT, f"tensors{suffix}.json"), "w"))

    # Token ids from OpenAI's own tokenizer (open_clip/tokenizer.py: ftfy + html.unescape + whitespace clean),
    # loaded as a file so that open_clip's package imports (torchvision) are not needed.
    import importlib.util
    spec = importlib.util.spec_from_file_location("openai_tokenizer", os.path.join(os.path.dirname(a.bpe), "tokenizer.py"))
    openai_tok = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(openai_tok)
    simple = openai_tok.SimpleTokenizer(bpe_path=a.bpe)

    def ids_of(text):
        ids = [simple.sot_token_id] + simple.encode(text) + [simple.eot_token_id]
        if len(ids) > 77:
            ids = ids[:77]
            ids[-1] = simple.eot_token_id
        return ids

    golden = {"tokens": [{"text": t, "ids": ids_of(t)} for t in TEXTS + TOKEN_ONLY], "texts": [], "images": [],
              "logit_scale": 2.6592}
    with torch.no_grad():
        for t in TEXTS:
            ids = ids_of(t)
            e = model.get_text_features(input_ids=torch.tensor([ids]))
            e = e.pooler_output if hasattr(e, "pooler_output") else e
            golden["texts"].append({"text": t, "ids": ids, "text_embeds": [round(float(x), 6) for x in e[0]]})
        for name in ["chelsea", "coffee"]:
            raw = np.fromfile(os.path.join(REPO, "Tests", "Fixtures", "images", "pipeline", f"{name}.rgb"), dtype=np.uint8)
            x = (raw.reshape(224, 224, 3).astype(np.float32) / 255 - MEAN) / STD
            pixels = torch.from_numpy(x.transpose(2, 0, 1)[None].copy())
            out = model.vision_model(pixel_values=pixels)
            embeds = model.visual_projection(out.pooler_output)[0]
            patches = model.visual_projection(model.vision_model.post_layernorm(out.last_hidden_state[0, 1:4]))
            golden["images"].append({"name": name, "image_embeds": [round(float(v), 6) for v in embeds],
                                     "patch_embeds_head": [[round(float(v), 6) for v in row] for row in patches]})
    json.dump(golden, open(os.path.join(OUT, f"golden{suffix}.json"), "w"), separators=(",", ":"))
    if a.save:
        from safetensors.torch import save_file
        os.makedirs(a.save, exist_ok=True)
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(a.save, "model.safetensors"))
        json.dump(CONFIG, open(os.path.join(a.save, "config.json"), "w"), indent=2)
        json.dump(vocab, open(os.path.join(a.save, "vocab.json"), "w"))
        open(os.path.join(a.save, "merges.txt"), "w", encoding="utf-8").write(merges)


if __name__ == "__main__":
    main()
