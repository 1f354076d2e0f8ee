#!/usr/bin/env python3
"""Golden token ids for the Swift SentencePiece/Unigram tokenizer (Tests/TokenizersTests/UnigramGoldenTests.swift).

No SigLIP tokenizer can be downloaded here, so this trains two SentencePiece Unigram models with the `sentencepiece`
PyPI trainer on text available offline: the glosses of Debian's wordnet-base (English, 117k lines) plus the native
words of glibc's locale files (month and day names in every script, so that accents, CJK, Hangul, Arabic and Thai
have pieces), and converts them to tokenizer.json as transformers does for a SentencePiece model:
  siglip      vocab 32000 like SigLIP's (pad 0 <pad>, eos 1 </s>, unk 2 <unk>, no byte fallback; nmt_nfkc),
              `SpmConverter(SiglipTokenizer(spiece.model))` — normalizer Precompiled + Strip(right) + Replace(" {2,}",
              "▁"), Metaspace(prepend always, split) — plus SigLIP's post-processor "$A </s>", truncation and padding
              to 64 with </s> (id 1), as google/siglip-* pad.
  bytefallback vocab 4000 with byte_fallback, `SpmConverter.build_tokenizer_from_spm_proto` (the other layout
              transformers writes: Replace(\\A +| +\\z), Replace(" {2,}", " "), Replace(" ", "▁"), Replace(\\A▁, ▁▁),
              Metaspace(split false)), no post-processor, no padding.
The reference is Hugging Face `tokenizers` on those files (what transformers' fast tokenizers run). For siglip it also
records transformers' slow `SiglipTokenizer` (sentencepiece itself, with SigLIP's lowercasing and punctuation
removal) on the texts, the ids `Encoders.SigLIP` tests feed the model.

Writes (committed): Tests/Fixtures/siglip/tokenizer.json, Tests/Fixtures/siglip/bytefallback/tokenizer.json,
Tests/Fixtures/siglip/tokenizer_golden.json:
  {"reference": "...", "siglip": [{"text", "ids" (64, padded)}], "bytefallback": [{"text", "ids"}],
   "siglip_slow": [{"text", "ids" (64, padded)}]}
Venv: python3 -m venv /tmp/spm-venv && /tmp/spm-venv/bin/pip install sentencepiece tokenizers transformers protobuf
Run:  apt-get download wordnet-base && dpkg-deb -x wordnet-base_*.deb /tmp/wn
      /tmp/spm-venv/bin/python models/siglip_tokenizer_fixtures.py --wordnet /tmp/wn/usr/share/wordnet
(training takes ~2 min; sentencepiece training is not bit-reproducible across versions, so the trained files are
committed and the goldens are regenerated from them with --reuse.)
"""
import argparse
import glob
import json
import os
import random
import re
import tempfile

import sentencepiece as spm
import tokenizers
import transformers
from tokenizers import Tokenizer, processors
from transformers import SiglipTokenizer
from transformers.convert_slow_tokenizer import SpmConverter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "Fixtures", "siglip")

TRICKY = [
    "", " ", "   ", "\t", "\n", " \n\t ", "a", "A", "hello", "Hello World", "hello world", "  leading spaces",
    "trailing spaces   ", "  both  ", "multiple   spaces   between", "tabs\tand\nnewlines\r\nmixed",
    "a photo of a cat", "A ginger tabby cat looking to the side.", "a cup of coffee on a saucer",
    "Rosetta turns text, images & audio into vectors!", "the year 2024: 3 dogs, 12 cats",
    "don't stop — it's fine; we'll see.", "naïve café déjà vu", "NAÏVE CAFÉ", "Crème brûlée à la mode",
    "e\u0301 combining acute", "\u00e9 precomposed", "Ångström", "Straße", "ǅungla", "İstanbul", "ﬁnancial ﬂow",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "ｶﾀｶﾅ half-width", "①②③ circled", "x² + y³ = z⁴", "½ ¼ ¾", "™ © ®",
    "中文字符", "日本語のテキスト", "한국어 텍스트", "我爱北京天安门", "こんにちは世界", "カタカナ", "ひらがな",
    "Привет, мир!", "Ελληνικά κείμενα", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "ሰላም",
    "Tiếng Việt có dấu", "Zürich Köln München", "København Ærø", "Łódź Gdańsk", "Čeština Šťastný",
    "emoji 🙂👍 and text", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "❤️ heart", "🇫🇷🇩🇪 flags", "a🙂b", "🙂",
    "numbers 0123456789", "3.14159", "1,000,000", "-42", "+1 (555) 123-4567", "2024-01-01T12:00:00Z",
    "v1.2.3-beta+build.5", "0x1F 0b1010", "1e-10", "100%", "$5.99 €3,50 £2 ¥100",
    "punctuation!!! ??? ... ,,, ;;; :::", "quotes \"double\" 'single' «guillemets» „german“", "brackets (a) [b] {c} <d>",
    "hyphen-ated words, commas; and... dots", "it's they're we've I'm you'll he'd", "email@example.com",
    "https://example.com/path?q=1&r=2#frag", "C:\\Windows\\System32", "/usr/local/bin", "snake_case_name",
    "camelCaseName", "ALLCAPS", "MiXeD cAsE", "a&amp;b &lt;tag&gt;", "<s> </s> <pad> <unk>", "hello</s>world",
    "</s>", "<pad>", "<unk>", "▁already▁metaspace", "▁", "▁▁", " ▁x", "~`!@#$%^&*()_+-={}|[]\\:\";'<>?,./",
    "\u00a0non-breaking\u00a0space", "zero\u200bwidth\u200bspace", "soft\u00adhyphen", "\u3000ideographic space",
    "line\u2028separator", "\ufeffBOM at start", "control\u0007char", "tab\u000bvertical", "\u2003em space",
    "x" * 300, " ".join(["word"] * 100), "antidisestablishmentarianism", "pneumonoultramicroscopicsilicovolcanoconiosis",
    "The quick brown fox jumps over the lazy dog. " * 5, "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "supercalifragilisticexpialidocious", "ñ ü ö ä ß ç ø å", "ʻokina", "Ⅻ roman numeral", "㎏ ㎞ ㏄",
    "ﾊﾝｶｸ", "\u1100\u1161\u11a8 jamo", "a\u0308 decomposed umlaut", "Å vs A\u030a", "ﬀ ligature", "…ellipsis",
    "“smart quotes”", "‘single smart’", "–en dash—em dash", "•bullet", "→ arrow ← ↑ ↓", "∑∏∫√∞", "°C 25°",
    "🙂" * 20, "中" * 80, "end with space ", "\u0301 leading combining", "mixed 中文 and English 123",
]


def read_corpus(wordnet):
    lines = []
    for path in sorted(glob.glob(os.path.join(wordnet, "data.*"))):
        for line in open(path, encoding="latin-1"):
            if not line.startswith("  ") and " | " in line:
                lines.append(line.split(" | ", 1)[1].strip())
    words, seen = [], set()
    for path in sorted(glob.glob("/usr/share/i18n/locales/*")):
        text = open(path, encoding="utf-8", errors="ignore").read()
        for s in re.findall(r'"((?:<U[0-9A-Fa-f]{4,5}>)+)"', text):
            w = "".join(chr(int(h, 16)) for h in re.findall(r"<U([0-9A-Fa-f]+)>", s))
            if len(w) > 1 and w not in seen:
                seen.add(w)
                words.append(w)
    return lines, words


def train(wordnet, folder):
    lines, words = read_corpus(wordnet)
    big = os.path.join(folder, "big.txt")
    open(big, "w").write("\n".join(lines + words * 3) + "\n")
    small = os.path.join(folder, "small.txt")
    open(small, "w").write("\n".join(lines[:40000] + words) + "\n")
    common = dict(model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1, num_threads=2, minloglevel=1)
    spm.SentencePieceTrainer.train(input=big, model_prefix=os.path.join(folder, "siglip"), vocab_size=32000,
                                   character_coverage=0.9995, **common)
    spm.SentencePieceTrainer.train(input=small, model_prefix=os.path.join(folder, "bytefallback"), vocab_size=4000,
                                   character_coverage=0.98, byte_fallback=True, **common)
    return os.path.join(folder, "siglip.model"), os.path.join(folder, "bytefallback.model")


def convert_siglip(model_path):
    slow = SiglipTokenizer(model_path)
    fast = SpmConverter(slow).converted()
    fast.post_processor = processors.TemplateProcessing(
        single=["$A", "</s>"], pair=["$A", "</s>", "$B", "</s>"], special_tokens=[("</s>", 1)])
    fast.enable_truncation(64)
    fast.enable_padding(pad_id=1, pad_token="</s>", length=64)
    return slow, fast


def convert_bytefallback(model_path):
    from sentencepiece import sentencepiece_model_pb2 as pb
    proto = pb.ModelProto()
    proto.ParseFromString(open(model_path, "rb").read())
    vocab = [(p.piece, p.score) for p in proto.pieces]
    return SpmConverter.build_tokenizer_from_spm_proto(proto, vocab)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wordnet", help="wordnet-base's /usr/share/wordnet (trains new models)")
    p.add_argument("--reuse", action="store_true", help="regenerate the goldens from the committed tokenizer.json files")
    p.add_argument("--spiece", help="with --reuse: the trained siglip spiece.model, for the slow-tokenizer ids")
    a = p.parse_args()
    os.makedirs(os.path.join(OUT, "bytefallback"), exist_ok=True)
    siglip_json, bf_json = os.path.join(OUT, "tokenizer.json"), os.path.join(OUT, "bytefallback", "tokenizer.json")
    slow = None
    if a.reuse:
        fast, bf = Tokenizer.from_file(siglip_json), Tokenizer.from_file(bf_json)
        if a.spiece:
            slow = SiglipTokenizer(a.spiece)
    else:
        folder = tempfile.mkdtemp()
        siglip_model, bf_model = train(a.wordnet, folder)
        slow, fast = convert_siglip(siglip_model)
        bf = convert_bytefallback(bf_model)
        fast.save(siglip_json)
        bf.save(bf_json)
        print("spiece.model of siglip kept at", siglip_model)
    # Random mixtures of the tricky strings' characters: a differential test beyond the hand-written cases.
    rng = random.Random(25)
    alphabet = sorted(set("".join(TRICKY)))
    mixed = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(100)]
    texts = TRICKY + mixed
    golden = {"reference": f"tokenizers {tokenizers.__version__} / transformers {transformers.__version__}",
              "siglip": [{"text": t, "ids": fast.encode(t).ids} for t in texts],
              "bytefallback": [{"text": t, "ids": bf.encode(t).ids} for t in texts]}
    if slow is not None:
        golden["siglip_slow"] = [{"text": t, "ids": slow(t, padding="max_length", truncation=True, max_length=64)["input_ids"]}
                                 for t in TRICKY]
    elif a.reuse:
        golden["siglip_slow"] = json.load(open(os.path.join(OUT, "tokenizer_golden.json"))).get("siglip_slow", [])
    json.dump(golden, open(os.path.join(OUT, "tokenizer_golden.json"), "w"), ensure_ascii=False, separators=(",", ":"))
    print(len(texts), "strings;", sum(1 for t in texts if 2 in fast.encode(t).ids), "with <unk> in siglip")


if __name__ == "__main__":
    main()
