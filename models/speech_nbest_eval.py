#!/usr/bin/env python3
"""models/speech_nbest_eval.py — does pooling Whisper's N-best transcripts help spoken retrieval? (issue #29 item 2)

A held-out set made here (not committed, not the decoding fixtures' sentences): SENTENCES, caption-like and with
near neighbours ("a dog sleeping on the porch" / "a cat sleeping on the porch"), spoken by espeak-ng in the voices
of models/speech_clips.py plus pink noise at 5 dB SNR, converted as those clips are. Each spoken clip is embedded
by the real server (gRPC Embed, audio input, the default text space) and ranked against the texts of all
SENTENCES: R@1 per voice, for each `--speech-n-best` setting, one server per setting (same clips, same order).

Usage (needs espeak-ng, sox, a built server and the Python client, e.g. the test venv):
  .venv-test/bin/python models/speech_nbest_eval.py --server .build/release/rosetta-server --models-dir models \
      [--n-best 1 3 5] [--beam-size 5]
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from speech_clips import VOICES, speak  # noqa: E402

import rosetta  # noqa: E402

SENTENCES = [
    "A dog is sleeping on the front porch.",
    "A cat is sleeping on the front porch.",
    "Two children are building a sandcastle on the beach.",
    "An old man is feeding pigeons in the park.",
    "The red car is parked next to the fire hydrant.",
    "A woman is riding a bicycle across the bridge.",
    "Heavy rain is falling on the tin roof.",
    "The chef is slicing onions in a busy kitchen.",
    "A pilot is checking the engine before the flight.",
    "The baby laughed when the puppy licked her hand.",
    "Snow covered the mountains during the night.",
    "The students are taking an exam in a quiet hall.",
    "A fisherman pulled a large trout out of the river.",
    "The orchestra is tuning their instruments before the show.",
    "He spilled hot coffee on his laptop keyboard.",
    "She planted tulips along the garden fence.",
    "The museum opens at ten on weekdays.",
    "A horse is galloping across an open field.",
    "The price of bread went up again this month.",
    "Firefighters rescued a kitten from the tall oak tree.",
    "The train to Edinburgh was delayed by forty minutes.",
    "Please turn down the music after midnight.",
    "My neighbour repairs old clocks in his garage.",
    "The nurse checked the patient's temperature twice.",
    "Fresh strawberries are on sale at the market.",
    "The wind knocked over the rubbish bins last night.",
    "A young boy is flying a kite on the hill.",
    "They watched the sunset from the top of the lighthouse.",
    "The library will be closed for repairs next week.",
    "A bee is collecting pollen from a yellow flower.",
    "The plumber fixed the leaking pipe under the sink.",
    "We ordered two pizzas and a bottle of lemonade.",
    "The goalkeeper saved a penalty in the final minute.",
    "Thick fog delayed every flight out of the airport.",
    "The farmer is milking cows early in the morning.",
    "Her phone battery died in the middle of the call.",
    "A squirrel is hiding nuts under the leaves.",
    "The children sang happy birthday to their teacher.",
    "An ambulance raced through the crowded street.",
    "The bakery on the corner sells warm cinnamon rolls.",
]
EXTRA_VOICES = {"en-us-noise5": ("en-us", 150, 5)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_clips(directory):
    clips = []  # (sentence index, voice, path)
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(SENTENCES):
            for name, voice in {**VOICES, **EXTRA_VOICES}.items():
                path = os.path.join(directory, f"{i:02d}-{name}.ogg")
                speak(text, voice, path, tmp)
                clips.append((i, name, path))
    return clips


def evaluate(args, n_best, clips):
    port = free_port()
    log = open(os.path.join(args.logs, f"server-nbest{n_best}.log"), "wb")
    server = subprocess.Popen([args.server, "--address", f"127.0.0.1:{port}", "--models-dir", args.models_dir,
                               "--in-memory", "--speech-beam-size", str(args.beam_size), "--speech-n-best", str(n_best)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        client = rosetta.Client(f"127.0.0.1:{port}")
        deadline = time.monotonic() + 300
        while True:
            try:
                client.info()
                texts = np.array([list(r.embedding.float32) for r in client.embed(SENTENCES).raw.results])
                break
            except rosetta.RosettaError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.5)
        hits, transcripts, started = {}, {}, time.monotonic()
        for i, voice, path in clips:
            with open(path, "rb") as f:
                result = client.embed([rosetta.Audio(f.read(), mime_type="audio/ogg")]).raw.results[0]
            vector = np.array(list(result.embedding.float32))
            # A clip refused as without speech is a miss.
            hits.setdefault(voice, []).append(vector.size > 0 and int(np.argmax(texts @ vector)) == i)
            transcripts[(i, voice)] = result.transcript
        seconds = time.monotonic() - started
        client.close()
        return hits, transcripts, seconds
    finally:
        server.terminate()
        server.wait(60)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True)
    p.add_argument("--models-dir", required=True)
    p.add_argument("--n-best", type=int, nargs="+", default=[1, 3, 5])
    p.add_argument("--beam-size", type=int, default=5)
    args = p.parse_args()
    args.logs = tempfile.mkdtemp(prefix="nbest-eval-")
    with tempfile.TemporaryDirectory() as directory:
        clips = make_clips(directory)
        results = {n: evaluate(args, n, clips) for n in args.n_best}
    voices = list({**VOICES, **EXTRA_VOICES})
    print(f"{len(SENTENCES)} sentences x {len(voices)} voices, beam {args.beam_size}; spoken clip -> sentence text R@1")
    print("| voice | " + " | ".join(f"n-best {n}" for n in args.n_best) + " |")
    print("|---|" + "---|" * len(args.n_best))
    for voice in voices + ["all"]:
        cells = []
        for n in args.n_best:
            hits = results[n][0]
            flat = [h for v in voices for h in hits[v]] if voice == "all" else hits[voice]
            cells.append(f"{sum(flat) / len(flat):.3f}")
        print(f"| {voice} | " + " | ".join(cells) + " |")
    print("| seconds for all clips | " + " | ".join(f"{results[n][2]:.0f}" for n in args.n_best) + " |")
    base = args.n_best[0]
    for n in args.n_best[1:]:
        gained = sum(1 for (i, v) in results[base][1] if not results[base][0][v][i] and results[n][0][v][i])
        lost = sum(1 for (i, v) in results[base][1] if results[base][0][v][i] and not results[n][0][v][i])
        print(f"n-best {n} vs {base}: {gained} clips gained, {lost} lost")
    print(f"server logs: {args.logs}")


if __name__ == "__main__":
    main()
