#!/usr/bin/env python3
"""models/audio_clips.py — the committed audio fixtures: spoken queries (espeak-ng, several voices), their caption
texts, and sox-made sound effects. Python 3 stdlib + the espeak-ng and sox programs (apt-get install espeak-ng sox).

Writes Tests/Fixtures/audio/:
  speech/<caption id>-<voice>.ogg    espeak-ng speaking the *query* of a caption (a paraphrase, not the caption text),
                                     resampled by sox to 16 kHz mono Ogg/Vorbis (small; the retrieval set)
  golden/<caption id>-<voice>.flac   a few of the same clips as lossless 16 kHz FLAC: the Whisper golden inputs
  golden/<caption id>-en-us-22k.wav  one clip at espeak-ng's native 22.05 kHz (exercises our resampler end to end)
  sfx/<name>.flac                    sox synth: tone, sweep, white/pink noise, silence, click train (16 kHz)
  captions.json                      [{id, caption, query}] — the retrieval set: audio query -> caption text
  two-topics/<a>+<b>-<voice>.ogg     one recording speaking two queries in turn (INSTRUCTION pooling evidence), and
  two-topics/topics.json             {file: [{id, instruction, caption}, {...}]}: which topics, and the instruction
                                     naming each
  long/<voice>.ogg                   all 12 spoken queries of one voice in a row, 1.2 s apart (44 s: long audio,
                                     transcribed across 30 s windows; goldens by reference_whisper.py --long)
  mp3/dog-<variant>.mp3               golden/dog-en-us.flac encoded by LAME (apt-get install lame) in the layouts
                                     whose header's length libsndfile can only estimate (`--mp3` writes only these):
                                     cbr (16 kHz, 32 kbps: frames too small for an Info tag, so the length is
                                     estimated from the file size), cbr-info (40 kbps with LAME's Info tag),
                                     vbr-xing (-V 9, Xing header), id3v2 (a title/artist tag with 2 KB of padding
                                     before the audio), id3v1 (a 128-byte tag after it), 44k-padded (44.1 kHz at
                                     48 kbps: frames alternate between 156 and 157 bytes, the padding bit)
Noisy copies (for the robustness evaluation) are not committed: `--noisy DIR` writes each 16 kHz speech clip mixed
with sox pink noise at the given SNRs (default 10 and 5 dB) into DIR.

Deterministic for a given espeak-ng/sox/lame version (espeak-ng 1.51, SoX 14.4.2, LAME 3.100 on Debian 12).
"""
import argparse
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "audio")

# (id, caption text in the index, spoken query: a paraphrase of the caption)
CAPTIONS = [
    ("dog", "A dog barking loudly in the backyard", "a dog is barking in the yard"),
    ("train", "A passenger train departing from the station at noon", "the train leaves the station at midday"),
    ("lights", "Switching off the lights in the kitchen", "please turn off the kitchen lights"),
    ("rain", "Heavy rain pouring down on a tin roof", "the rain is falling hard on the roof"),
    ("football", "Children playing soccer in a city park", "kids are playing football in the park"),
    ("pasta", "Cooking spaghetti with tomato sauce for dinner", "she is making pasta for supper"),
    ("stocks", "Stock prices dropped sharply on Wall Street", "the stock market fell a lot today"),
    ("plane", "An airplane taking off from the runway", "a jet is taking off at the airport"),
    ("baby", "A baby sleeping quietly in a crib", "the infant is asleep in her cot"),
    ("groceries", "A shopping list with milk, eggs and bread", "we need to buy milk and bread"),
    ("guitar", "A musician tuning an acoustic guitar", "he is tuning his guitar before the show"),
    ("snow", "Fresh snow covering the mountain peaks", "snow fell on the mountains last night"),
]
# espeak-ng voices (+variant): US and British male, a female variant, Scottish.
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb-scotland"]
# Recordings of two topics: pairs of caption ids, and the instruction that names each topic.
TWO_TOPICS = [("dog", "train"), ("rain", "stocks"), ("pasta", "plane"), ("guitar", "snow")]
TOPIC_INSTRUCTIONS = {"dog": "the dog", "train": "the train", "rain": "the weather", "stocks": "the stock market",
                      "pasta": "the cooking", "plane": "the airplane", "guitar": "the music", "snow": "the mountains"}
GOLDEN = ["dog-en-us", "rain-en-gb", "plane-en-us_f3", "stocks-en-gb-scotland"]
SFX = {
    "tone440": ["synth", "1.5", "sine", "440", "vol", "0.5"],
    "sweep": ["synth", "1.5", "sine", "200-4000", "vol", "0.5"],
    "whitenoise": ["synth", "1", "whitenoise", "vol", "0.3"],
    "pinknoise": ["synth", "1", "pinknoise", "vol", "0.3"],
    "silence": ["synth", "1.5", "sine", "0", "vol", "0"],
    "clicks": ["synth", "1.5", "square", "4", "vol", "0.4"],
}


def run(cmd):
    subprocess.run(cmd, check=True)


def speak(text, voice, wav):
    # -s 150 words/min; espeak-ng writes 22.05 kHz mono 16-bit WAV.
    run(["espeak-ng", "-v", voice, "-s", "150", "-w", wav, text])


def to16k(src, dst):
    # sox's default rate effect (high quality, linear phase), 1 dB headroom; dither off for reproducibility.
    fmt = ["-C", "3"] if dst.endswith(".ogg") else ["-b", "16"]
    run(["sox", "-D", src, "-r", "16000", "-c", "1"] + fmt + [dst, "gain", "-1"])


def make(out):
    os.makedirs(os.path.join(out, "speech"), exist_ok=True)
    os.makedirs(os.path.join(out, "golden"), exist_ok=True)
    os.makedirs(os.path.join(out, "sfx"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for cid, _, query in CAPTIONS:
            for voice in VOICES:
                wav = os.path.join(tmp, "q.wav")
                speak(query, voice, wav)
                name = f"{cid}-{voice.replace('+', '_')}"
                to16k(wav, os.path.join(out, "speech", name + ".ogg"))
                if name in GOLDEN:
                    to16k(wav, os.path.join(out, "golden", name + ".flac"))
                if name == "dog-en-us":
                    run(["cp", wav, os.path.join(out, "golden", name + "-22k.wav")])
    for name, effect in SFX.items():
        run(["sox", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", os.path.join(out, "sfx", f"{name}.flac")] + effect)
    with open(os.path.join(out, "captions.json"), "w") as f:
        json.dump([{"id": c, "caption": cap, "query": q} for c, cap, q in CAPTIONS], f, indent=1)
        f.write("\n")
    two_topics(out)
    long_recordings(out)
    mp3s(out)


def two_topics(out):
    """Both queries of a pair spoken as one recording (a second of silence between them), in two voices."""
    os.makedirs(os.path.join(out, "two-topics"), exist_ok=True)
    captions = {c: (cap, q) for c, cap, q in CAPTIONS}
    index = {}
    with tempfile.TemporaryDirectory() as tmp:
        for a, b in TWO_TOPICS:
            for voice in VOICES[:2]:
                parts = [os.path.join(tmp, f"{i}.wav") for i in range(2)]
                for part, c in zip(parts, (a, b)):
                    speak(captions[c][1], voice, part)
                # a second's pause between the topics, as between two sentences of a recording
                wav = os.path.join(tmp, "q.wav")
                run(["sox", parts[0], os.path.join(tmp, "a.wav"), "pad", "0", "1"])
                run(["sox", os.path.join(tmp, "a.wav"), parts[1], wav])
                name = f"{a}+{b}-{voice.replace('+', '_')}.ogg"
                to16k(wav, os.path.join(out, "two-topics", name))
                index[name] = [{"id": c, "instruction": TOPIC_INSTRUCTIONS[c], "caption": captions[c][0]} for c in (a, b)]
    with open(os.path.join(out, "two-topics", "topics.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


def long_recordings(out):
    """The 12 queries of a voice one after another with 1.2 s of silence after each: speech across windows."""
    os.makedirs(os.path.join(out, "long"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES[:2]:
            parts = []
            for i, (_, _, query) in enumerate(CAPTIONS):
                wav = os.path.join(tmp, f"{i}.wav")
                speak(query, voice, wav)
                padded = os.path.join(tmp, f"{i}-padded.wav")
                run(["sox", wav, padded, "pad", "0", "1.2"])
                parts.append(padded)
            joined = os.path.join(tmp, "joined.wav")
            run(["sox"] + parts + [joined])
            to16k(joined, os.path.join(out, "long", f"{voice.replace('+', '_')}.ogg"))


# MP3 variant -> LAME options (the input is the 16 kHz golden clip; --resample changes the rate).
MP3 = {
    "cbr": ["-b", "32"],
    "cbr-info": ["-b", "40"],
    "vbr-xing": ["-V", "9"],
    "id3v2": ["-b", "32", "--id3v2-only", "--pad-id3v2-size", "2048", "--tt", "A dog barking", "--ta", "espeak-ng"],
    "id3v1": ["-b", "32", "--id3v1-only", "--tt", "A dog barking", "--ta", "espeak-ng"],
    "44k-padded": ["-b", "48", "--resample", "44.1"],
}


def mp3s(out):
    """The golden dog clip as MP3 in each layout of MP3 (LAME 3.100, no ReplayGain analysis)."""
    os.makedirs(os.path.join(out, "mp3"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "dog.wav")
        run(["sox", os.path.join(out, "golden", "dog-en-us.flac"), "-b", "16", wav])
        for name, options in MP3.items():
            run(["lame", "--quiet", "--noreplaygain"] + options + [wav, os.path.join(out, "mp3", f"dog-{name}.mp3")])


def noisy(out, snrs):
    """Each clean 16 kHz clip mixed with pink noise at each SNR (dB), via sox: noise level from the clip's RMS."""
    os.makedirs(out, exist_ok=True)
    speech = os.path.join(OUT, "speech")
    for name in sorted(os.listdir(speech)):
        src = os.path.join(speech, name)
        base = name.rsplit(".", 1)[0]
        stat = subprocess.run(["sox", src, "-n", "stat"], capture_output=True, text=True).stderr
        rms = float(next(l for l in stat.splitlines() if l.startswith("RMS     amplitude")).split(":")[1])
        dur = subprocess.run(["soxi", "-D", src], capture_output=True, text=True).stdout.strip()
        for snr in snrs:
            with tempfile.TemporaryDirectory() as tmp:
                noise = os.path.join(tmp, "n.wav")
                # pink noise of unit-ish RMS scaled to rms / 10^(snr/20); seeded (-R) for reproducibility
                run(["sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", noise, "synth", dur, "pinknoise",
                     "vol", "0.25"])
                nstat = subprocess.run(["sox", noise, "-n", "stat"], capture_output=True, text=True).stderr
                nrms = float(next(l for l in nstat.splitlines() if l.startswith("RMS     amplitude")).split(":")[1])
                gain = rms / (10 ** (snr / 20)) / nrms
                dst = os.path.join(out, f"{base}-snr{snr}.flac")
                run(["sox", "-D", "-m", src, "-v", f"{gain:.6f}", noise, "-r", "16000", "-b", "16", dst, "gain", "-1"])


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--noisy", metavar="DIR", help="write noisy copies of the speech clips into DIR instead")
    p.add_argument("--snr", type=int, nargs="*", default=[10, 5])
    p.add_argument("--two-topics", action="store_true", help="write only the two-topic recordings")
    p.add_argument("--long", action="store_true", help="write only the long recordings")
    p.add_argument("--mp3", action="store_true", help="write only the MP3 variants")
    a = p.parse_args()
    if a.mp3:
        mp3s(OUT)
    elif a.two_topics:
        two_topics(OUT)
    elif a.long:
        long_recordings(OUT)
    elif a.noisy:
        noisy(a.noisy, a.snr)
    else:
        make(OUT)
