#!/usr/bin/env python3
"""models/speech_clips.py — the committed clips of the speech-decoding tests: spoken sentences in several espeak-ng
voices (clean, noisy, slow, fast) and sounds without words. Python 3 stdlib + espeak-ng and sox
(apt-get install espeak-ng sox).

Writes Tests/Fixtures/audio/decoding/ (16 kHz mono Ogg/Vorbis, quality 3: small; both the reference and the server
decode the same file with libvorbis):
  speech/<sentence id>-<voice>.ogg   espeak-ng speaking SENTENCES[id] in each voice of VOICES:
                                       en-us           US English, 150 words/min
                                       en-us-noise10   the en-us clip mixed with sox pink noise at 10 dB SNR
                                       en-gb-f-slow    British English, female variant (+f3), 120 words/min
                                       en-029-fast     Caribbean English, 200 words/min
                                       en-scot-fast    Scottish English, 200 words/min
  nonspeech/<name>.ogg               sounds without words (NONSPEECH): tones, a C-major chord, sweeps, noises,
                                     clicks, music-like signals
  sentences.json                     {sentence id: text} — the retrieval set: spoken clip -> its sentence text

Goldens: models/reference_speech_decoding.py (faster-whisper's transcribe() on these files).
Deterministic for a given espeak-ng/sox version (espeak-ng 1.51, SoX 14.4.2 on Debian 12; noise seeded with -R).
"""
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "audio", "decoding")

SENTENCES = {
    "bus": "The last bus to the airport leaves at half past nine.",
    "bread": "My grandmother bakes fresh bread every Sunday morning.",
    "storm": "A storm is moving in from the coast tonight.",
    "library": "Please return your books to the library by Friday.",
    "bike": "He fixed the flat tyre on his bicycle before work.",
    "garden": "The tomatoes in the garden are finally ripe.",
    "meeting": "Our team meeting has moved to the second floor.",
    "concert": "Tickets for the jazz concert sold out in an hour.",
}
# voice name -> (espeak-ng voice, words per minute, pink-noise SNR in dB or None)
VOICES = {
    "en-us": ("en-us", 150, None),
    "en-us-noise10": ("en-us", 150, 10),
    "en-gb-f-slow": ("en-gb+f3", 120, None),
    "en-029-fast": ("en-029", 200, None),
    "en-scot-fast": ("en-gb-scotland", 200, None),
}
# name -> sox arguments after `sox -n -r 16000 -c 1 -b 16 out.wav`: sounds without words, 2 s each
NONSPEECH = {
    "tone440": ["synth", "2", "sine", "440", "vol", "0.5"],
    "tone1k-beeps": ["synth", "0.25", "sine", "1000", "pad", "0", "0.25", "repeat", "3", "vol", "0.5"],
    "chord-c-major": ["synth", "2", "sine", "261.63", "sine", "329.63", "sine", "392.00", "channels", "1",
                      "vol", "0.4"],
    "sweep-up": ["synth", "2", "sine", "100-6000", "vol", "0.5"],
    "sweep-down-square": ["synth", "2", "square", "3000-200", "vol", "0.2"],
    "whitenoise": ["synth", "2", "whitenoise", "vol", "0.3"],
    "pinknoise": ["synth", "2", "pinknoise", "vol", "0.3"],
    "brownnoise": ["synth", "2", "brownnoise", "vol", "0.5"],
    "clicks": ["synth", "2", "square", "5", "vol", "0.4"],
    "hum50": ["synth", "2", "sine", "50", "sine", "100", "channels", "1", "vol", "0.3"],
}
# Music-like signals built from notes: name -> [(sox synth type, frequency Hz, seconds)]
MELODIES = {
    "arpeggio-pluck": [("pluck", f, 0.25) for f in (261.63, 329.63, 392.00, 523.25, 392.00, 329.63, 261.63, 196.00)],
    "melody-triangle": [("triangle", f, 0.4) for f in (392.00, 440.00, 493.88, 392.00, 587.33)],
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def to_ogg(src, dst):
    # sox's default rate effect, 1 dB headroom, dither off (-D) for reproducibility.
    run(["sox", "-D", src, "-r", "16000", "-c", "1", "-C", "3", dst, "gain", "-1"])


def rms(path):
    stat = subprocess.run(["sox", path, "-n", "stat"], capture_output=True, text=True).stderr
    return float(next(l for l in stat.splitlines() if l.startswith("RMS     amplitude")).split(":")[1])


def add_pink_noise(src, dst, snr, tmp):
    """`src` mixed with seeded pink noise scaled to RMS(src) / 10^(snr/20)."""
    dur = subprocess.run(["soxi", "-D", src], capture_output=True, text=True).stdout.strip()
    noise = os.path.join(tmp, "noise.wav")
    run(["sox", "-R", "-n", "-r", "22050", "-c", "1", "-b", "16", noise, "synth", dur, "pinknoise", "vol", "0.25"])
    gain = rms(src) / (10 ** (snr / 20)) / rms(noise)
    run(["sox", "-D", "-m", src, "-v", f"{gain:.6f}", noise, "-b", "16", dst])


def speak(text, voice, path, tmp):
    """`text` spoken in `voice` (a VOICES value: espeak-ng voice, words per minute, pink-noise SNR or None) into
    the Ogg file `path`."""
    name, wpm, snr = voice
    wav = os.path.join(tmp, "s.wav")
    run(["espeak-ng", "-v", name, "-s", str(wpm), "-w", wav, text])
    if snr is not None:
        noisy = os.path.join(tmp, "n.wav")
        add_pink_noise(wav, noisy, snr, tmp)
        wav = noisy
    to_ogg(wav, path)


def speech(out, tmp):
    os.makedirs(os.path.join(out, "speech"), exist_ok=True)
    for sid, text in SENTENCES.items():
        for name, voice in VOICES.items():
            speak(text, voice, os.path.join(out, "speech", f"{sid}-{name}.ogg"), tmp)


def nonspeech(out, tmp):
    os.makedirs(os.path.join(out, "nonspeech"), exist_ok=True)
    for name, effect in NONSPEECH.items():
        wav = os.path.join(tmp, "x.wav")
        run(["sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", wav] + effect)
        to_ogg(wav, os.path.join(out, "nonspeech", f"{name}.ogg"))
    for name, notes in MELODIES.items():
        parts = []
        for i, (kind, freq, seconds) in enumerate(notes):
            part = os.path.join(tmp, f"note{i}.wav")
            run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", part, "synth", str(seconds), kind, str(freq),
                 "fade", "0.01", str(seconds), "0.05", "vol", "0.5"])
            parts.append(part)
        wav = os.path.join(tmp, "m.wav")
        run(["sox"] + parts + [wav])
        to_ogg(wav, os.path.join(out, "nonspeech", f"{name}.ogg"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        speech(OUT, tmp)
        nonspeech(OUT, tmp)
    with open(os.path.join(OUT, "sentences.json"), "w") as f:
        json.dump(SENTENCES, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
