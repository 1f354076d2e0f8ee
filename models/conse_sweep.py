#!/usr/bin/env python3
"""models/conse_sweep.py — chooses ConSE's top-T and temperature (manifest "conse") by measurement.

Uses the reference implementations only: EfficientNet-Lite0 logits of the 12 committed photos
(Tests/Fixtures/images/efficientnet_lite0.json, PyTorch) and all-MiniLM-L6-v2 (sentence-transformers) for the
class-name embeddings (template ensemble from models/imagenet_labels.json) and the hand-written captions
(Tests/Fixtures/images/photos/captions.json). Prints text->image and image->text recall@1 and mean reciprocal
rank for each (templates, T, temperature). 12 photos is a small set: read it as a sanity check of the defaults,
not as a benchmark.

  python models/conse_sweep.py --model models/all-minilm-l6-v2
"""
import argparse
import json
import os

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(REPO, "models", "all-minilm-l6-v2"))
    a = p.parse_args()
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(a.model, device="cpu")
    labels = json.load(open(os.path.join(REPO, "models", "imagenet_labels.json")))
    golden = json.load(open(os.path.join(REPO, "Tests", "Fixtures", "images", "efficientnet_lite0.json")))["images"]
    captions = json.load(open(os.path.join(REPO, "Tests", "Fixtures", "images", "photos", "captions.json")))
    names = sorted(captions)
    logits = np.array([golden[n]["logits"] for n in names], dtype=np.float64)
    text = st.encode([captions[n] for n in names], normalize_embeddings=True)

    def recalls(images):
        sim = text @ images.T
        t2i = np.mean(sim.argmax(1) == np.arange(len(names)))
        i2t = np.mean(sim.argmax(0) == np.arange(len(names)))
        ranks = [(sim[i] > sim[i, i]).sum() + 1 for i in range(len(names))]
        return t2i, i2t, np.mean(1 / np.array(ranks))

    for key in ["simple_templates", "templates"]:
        templates = labels[key]
        sentences = [t.replace("{}", c) for c in labels["classes"] for t in templates]
        e = st.encode(sentences, normalize_embeddings=True, batch_size=256).reshape(len(labels["classes"]), len(templates), -1)
        table = e.mean(1)
        table /= np.linalg.norm(table, axis=1, keepdims=True)
        print(f"{key} ({len(templates)} templates)")
        print(f"{'T':>5} {'temp':>5} {'t->i R@1':>9} {'i->t R@1':>9} {'t->i MRR':>9}")
        for temperature in [0.5, 1.0, 2.0]:
            for top in [1, 3, 5, 10, 20, 50]:
                z = logits / temperature
                prob = np.exp(z - z.max(1, keepdims=True))
                prob /= prob.sum(1, keepdims=True)
                vecs = []
                for row in prob:
                    idx = np.argsort(-row)[:top]
                    w = row[idx] / row[idx].sum()
                    v = (w[:, None] * table[idx]).sum(0)
                    vecs.append(v / np.linalg.norm(v))
                t2i, i2t, mrr = recalls(np.array(vecs))
                print(f"{top:>5} {temperature:>5} {t2i:>9.3f} {i2t:>9.3f} {mrr:>9.3f}")


if __name__ == "__main__":
    main()
