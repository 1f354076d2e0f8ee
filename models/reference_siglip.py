#!/usr/bin/env python3
"""models/reference_siglip.py — golden outputs of transformers' SiglipModel (google/siglip-base-patch16-224's
configuration, seeded weights) and of its image processor.

Venv (torch from PyPI is large; once):  python3 -m venv /work/siglip-venv &&
  /work/siglip-venv/bin/pip install torch transformers sentencepiece protobuf numpy safetensors pillow
Run:  /work/siglip-venv/bin/python models/reference_siglip.py [--small] [--save DIR]

No SigLIP weights can be downloaded here, so the model is transformers.SiglipModel built from the real
google/siglip-base-patch16-224 configuration (Tests/Fixtures/siglip/config.json: transformers' defaults, which that
checkpoint's config.json relies on) with the counter-based weights of models/seeded_weights.py (reference_clip.py's
rule; logit_bias −10, attention in_proj_bias drawn as a bias), which the Swift tests reproduce bit for bit (no
weights are committed). With --small the same at toy size (SMALL: 2 layers, width 64; *_small.json files), for the
test `swift test` runs by default.
The tokenizer is Tests/Fixtures/siglip/spiece.model (trained here: models/siglip_tokenizer_fixtures.py) through
transformers' slow SiglipTokenizer, padded to 64 with </s> as SigLIP's processor does (padding="max_length");
the text tower gets input_ids only (no attention mask), as SigLIP was trained.
Writes Tests/Fixtures/siglip/: config{,_small}.json, tensors{,_small}.json ([name, shape] in generator order),
golden{,_small}.json:
  {"texts": [{"text", "ids" [64], "text_embeds" [p]}], "images": [{"name", "image_embeds" [p],
   "patch_embeds_head" [3][p]: the first patch tokens
   through the MAP head's value path and MLP, the image's token set in the joint space}], "logit_scale", "logit_bias",
   "preprocess": [{"file", "pixels_head" [first 3·224 values, channels last], "sum", "abs_sum"}]}
Image inputs are the committed 224x224 crops Tests/Fixtures/images/pipeline/<name>.rgb, (x/255 − 0.5)/0.5; the
"preprocess" entries are SiglipImageProcessorPil (PIL bicubic to 224x224, no crop) on the raw RGB images of
Tests/Fixtures/images/resize.
"""
import argparse
import json
import os

import numpy as np
import torch

from seeded_weights import seeded_value

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "Fixtures", "siglip")

CONFIG = {
    "model_type": "siglip", "architectures": ["SiglipModel"],
    "text_config": {"vocab_size": 32000, "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                    "num_hidden_layers": 12, "max_position_embeddings": 64, "hidden_act": "gelu_pytorch_tanh",
                    "layer_norm_eps": 1e-6},
    "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                      "num_hidden_layers": 12, "image_size": 224, "patch_size": 16, "num_channels": 3,
                      "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6},
}
SMALL = {**CONFIG,
         "text_config": {**CONFIG["text_config"], "hidden_size": 64, "intermediate_size": 256, "num_attention_heads": 4,
                         "num_hidden_layers": 2},
         "vision_config": {**CONFIG["vision_config"], "hidden_size": 64, "intermediate_size": 256,
                           "num_attention_heads": 4, "num_hidden_layers": 2}}

TEXTS = ["a photo of a cat", "A ginger tabby cat looking to the side.", "a cup of coffee on a saucer",
         "Rosetta turns text, images & audio into vectors!", "the year 2024: 3 dogs, 12 cats",
         "don't stop — it's fine; we'll see. naïve café déjà vu", "This is a photo of a rocket.",
         " ".join(["word"] * 100)]
PHOTOS = [("rgb8_100x75.rgb", 100, 75), ("rgb8_13x48.rgb", 13, 48)]  # Tests/Fixtures/images/resize, raw RGB


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--small", action="store_true")
    p.add_argument("--save", help="also write a checkpoint folder here")
    a = p.parse_args()
    config, suffix = (SMALL, "_small") if a.small else (CONFIG, "")
    from transformers import SiglipConfig, SiglipModel, SiglipTokenizer

    torch.manual_seed(0)
    model = SiglipModel(SiglipConfig(**config)).eval()
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("position_ids")}
    names = sorted(state)
    with torch.no_grad():
        for k, name in enumerate(names):
            state[name].copy_(torch.from_numpy(seeded_value(name, list(state[name].shape), k)))
    json.dump(config, open(os.path.join(OUT, f"config{suffix}.json"), "w"), indent=2)
    json.dump([[n, list(state[n].shape)] for n in names], open(os.path.join(OUT, f"tensors{suffix}.json"), "w"))

    tokenizer = SiglipTokenizer(os.path.join(OUT, "spiece.model"))
    golden = {"texts": [], "images": [], "logit_scale": float(model.logit_scale.detach()), "logit_bias": float(model.logit_bias.detach())}
    with torch.no_grad():
        for t in TEXTS:
            ids = tokenizer(t, padding="max_length", truncation=True, max_length=64)["input_ids"]
            e = model.get_text_features(input_ids=torch.tensor([ids]))
            e = e.pooler_output if hasattr(e, "pooler_output") else e
            golden["texts"].append({"text": t, "ids": ids, "text_embeds": [round(float(x), 6) for x in e[0]]})
        for name in ["chelsea", "coffee"]:
            raw = np.fromfile(os.path.join(REPO, "Tests", "Fixtures", "images", "pipeline", f"{name}.rgb"), dtype=np.uint8)
            x = (raw.reshape(224, 224, 3).astype(np.float32) / 255 - 0.5) / 0.5
            pixels = torch.from_numpy(x.transpose(2, 0, 1)[None].copy())
            out = model.vision_model(pixel_values=pixels)
            # Each patch token through the MAP head as if the probe attended to it alone: its value projection,
            # out_proj, then the head's residual MLP — the token's vector in the joint space (instruction pooling).
            head = model.vision_model.head
            d = config["vision_config"]["hidden_size"]
            tokens = out.last_hidden_state[0, :3]
            attended = head.attention.out_proj(torch.nn.functional.linear(tokens, head.attention.in_proj_weight[2 * d:],
                                                                   head.attention.in_proj_bias[2 * d:]))
            joint = attended + head.mlp(head.layernorm(attended))
            golden["images"].append({"name": name, "image_embeds": [round(float(v), 6) for v in out.pooler_output[0]],
                                     "patch_embeds_head": [[round(float(v), 6) for v in row] for row in joint]})
    if not a.small:
        from PIL import Image
        from transformers import SiglipImageProcessorPil
        processor = SiglipImageProcessorPil()
        golden["preprocess"] = []
        for photo, width, height in PHOTOS:
            raw = open(os.path.join(REPO, "Tests", "Fixtures", "images", "resize", photo), "rb").read()
            image = Image.frombytes("RGB", (width, height), raw)
            px = processor(images=image, return_tensors="np")["pixel_values"][0].transpose(1, 2, 0)
            golden["preprocess"].append({"file": photo, "pixels_head": [round(float(v), 6) for v in px.reshape(-1)[:3 * 224]],
                                         "sum": float(px.astype(np.float64).sum()), "abs_sum": float(np.abs(px.astype(np.float64)).sum())})
    json.dump(golden, open(os.path.join(OUT, f"golden{suffix}.json"), "w"), separators=(",", ":"))
    if a.save:
        from safetensors.torch import save_file
        os.makedirs(a.save, exist_ok=True)
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(a.save, "model.safetensors"))
        json.dump(config, open(os.path.join(a.save, "config.json"), "w"), indent=2)
        import shutil
        shutil.copy(os.path.join(OUT, "tokenizer.json"), os.path.join(a.save, "tokenizer.json"))


if __name__ == "__main__":
    main()
