#!/usr/bin/env python3
"""Writes the tiny random BERT test checkpoint and its expected outputs (Tests/Fixtures/tiny-bert/).

Layout written (all small, committed):
  config.json        HF BertConfig: 2 layers, hidden 32, 4 heads, intermediate 64, vocab 100, 32 positions
  model.safetensors  transformers BertModel state_dict (keys without the `bert.` prefix, pooler included), F32
  expected.json      {"sequences": [[ids]], "hidden_states": [[[float]]] (last_hidden_state per sequence, padding
                      removed), "mean": [[float]], "cls": [[float]], "batch_max_abs_diff": float}

The reference is transformers.BertModel in eval mode on CPU, run one sequence at a time; the same sequences are also
run as one padded batch with an attention mask and the largest difference is recorded (it should be ~1e-7).
Parameters are drawn from N(0, 0.2) with a fixed seed (including LayerNorm weights, so gamma/beta mix-ups show).

Usage: <python with torch+transformers+safetensors> models/reference_tiny_bert.py [out_dir]
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "tiny-bert")
SEQUENCES = [
    [2, 17, 45, 3],
    [2, 8, 9, 10, 11, 12, 13, 99, 0, 3],
    [2, 3],
    [2, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 3],
    [2, 7, 3],
]


def main():
    torch.manual_seed(1234)
    config = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        hidden_act="gelu", max_position_embeddings=32, type_vocab_size=2, layer_norm_eps=1e-12,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    model = BertModel(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.2)
    os.makedirs(OUT, exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "embeddings.position_ids"}
    save_file(state, os.path.join(OUT, "model.safetensors"), metadata={"format": "pt"})
    keys = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "hidden_act", "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "pad_token_id"]
    cfg = {k: getattr(config, k) for k in keys}
    cfg["architectures"] = ["BertModel"]
    cfg["model_type"] = "bert"
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)

    hidden, mean, cls = [], [], []
    with torch.no_grad():
        for ids in SEQUENCES:
            h = model(input_ids=torch.tensor([ids])).last_hidden_state[0]
            hidden.append(h.tolist())
            mean.append(h.mean(dim=0).tolist())
            cls.append(h[0].tolist())
        longest = max(len(s) for s in SEQUENCES)
        padded = torch.tensor([s + [0] * (longest - len(s)) for s in SEQUENCES])
        mask = torch.tensor([[1] * len(s) + [0] * (longest - len(s)) for s in SEQUENCES])
        batch = model(input_ids=padded, attention_mask=mask).last_hidden_state
        diff = max((batch[i, : len(s)] - torch.tensor(hidden[i])).abs().max().item() for i, s in enumerate(SEQUENCES))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"sequences": SEQUENCES, "hidden_states": hidden, "mean": mean, "cls": cls,
                   "batch_max_abs_diff": diff}, f)
    print(f"wrote {OUT}: {len(state)} tensors, padded-batch max diff {diff:.2e}")


if __name__ == "__main__":
    main()
