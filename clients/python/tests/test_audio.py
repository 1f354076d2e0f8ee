"""Audio through the real server: the speech bridge (Whisper tiny.en -> transcript -> the text space's encoder).

Evidence for issue 6, measured here and printed (pytest -s shows it; ROSETTA_AUDIO_REPORT=<file> also writes JSON):
- transcripts of the golden clips equal faster-whisper's transcribe() (Tests/Fixtures/audio/decoding);
- audio -> text recall@1: each espeak-ng spoken query (Tests/Fixtures/audio/speech, 12 captions x 4 voices,
  made by models/audio_clips.py) against the 12 caption texts embedded by the same server;
- the same with pink noise mixed in by sox (models/audio_clips.py --noisy) at 10 and 5 dB SNR;
- sox sound effects (tones, sweep, noise, silence, clicks): reported as they come out — the honest outcome is a
  per-item FAILED_PRECONDITION saying the audio has no trustworthy words, not a vector;
- the decoding clips (models/speech_clips.py): R@1 spoken sentence -> its text per voice, and every sound
  without words refused.
Needs whisper-tiny-en and all-minilm-l6-v2 under the models dir (models/fetch); fails without them unless
ROSETTA_SKIP_MODEL_TESTS=1.
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

import rosetta
from conftest import REPO_ROOT, _model_tests_skipped
from rosetta.v1 import common_pb2

pytestmark = pytest.mark.model

AUDIO = REPO_ROOT / "Tests" / "Fixtures" / "audio"
GOLDEN = REPO_ROOT / "Tests" / "Fixtures" / "whisper-tiny-en" / "golden.json"
DECODING_GOLDEN = AUDIO / "decoding" / "faster-whisper.json"
REPORT = {}


def _report(key, value):
    REPORT[key] = value
    print(f"\n[audio] {key}: {json.dumps(value) if not isinstance(value, str) else value}")
    path = os.environ.get("ROSETTA_AUDIO_REPORT")
    if path:
        Path(path).write_text(json.dumps(REPORT, indent=1))


@pytest.fixture(scope="module")
def speech_model(info, text_model):
    if common_pb2.MODALITY_AUDIO not in text_model.modalities:
        msg = (f"model {text_model.id} takes no audio (modalities {list(text_model.modalities)}): "
               f"the server needs whisper-tiny-en under the models dir (models/fetch)")
        if _model_tests_skipped():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return text_model


def embed_audio_files(client, model, paths, batch=8):
    """(vectors or None, transcripts, raw results) per file, in order."""
    out = []
    for i in range(0, len(paths), batch):
        chunk = paths[i:i + batch]
        res = client.embed([rosetta.Audio.from_path(p) for p in chunk], model=model.id)
        for emb, raw in zip(res.embeddings, sorted(res.raw.results, key=lambda r: r.index)):
            out.append((emb.vector if emb.ok else None, raw))
    return out


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def recall_at_1(client, model, paths, captions):
    ids = [c["id"] for c in captions]
    texts = client.embed_text([c["caption"] for c in captions], model=model.id)
    hits, rows = 0, []
    for path, (vec, raw) in zip(paths, embed_audio_files(client, model, paths)):
        truth = Path(path).name.split("-")[0]
        if vec is None:
            rows.append({"file": Path(path).name, "transcript": raw.transcript, "status": raw.status.message[:80]})
            continue
        scores = [dot(vec, t) for t in texts]
        best = ids[max(range(len(ids)), key=lambda j: scores[j])]
        hits += best == truth
        rows.append({"file": Path(path).name, "transcript": raw.transcript, "best": best, "ok": best == truth})
    return hits / len(paths), rows


def test_golden_clips_transcribe_as_faster_whisper(client, speech_model):
    """The server's default decoding is faster-whisper's transcribe() (beam 5): the transcripts of the golden clips
    equal it (Tests/Fixtures/audio/decoding/faster-whisper.json), and the no-speech probability equals
    CTranslate2's (golden.json)."""
    golden = json.loads(GOLDEN.read_text())
    reference = json.loads(DECODING_GOLDEN.read_text())["clips"]
    clips = [c for c in golden["clips"] if c["file"].startswith("golden/")]
    results = embed_audio_files(client, speech_model, [AUDIO / c["file"] for c in clips])
    for clip, (vec, raw) in zip(clips, results):
        assert vec is not None, raw.status.message
        assert reference[clip["file"]]["beam5"]["deterministic"]
        assert raw.transcript == reference[clip["file"]]["beam5"]["text"]
        assert raw.HasField("no_speech_probability")
        assert abs(raw.no_speech_probability - clip["no_speech_prob"]) < 2e-3
        assert raw.modality == common_pb2.MODALITY_AUDIO
        assert len(vec) == speech_model.dimensions
    _report("golden transcripts", [raw.transcript for _, raw in results])


def test_the_vector_is_the_text_embedding_of_the_transcript(client, speech_model):
    (vec, raw), = embed_audio_files(client, speech_model, [AUDIO / "golden" / "rain-en-gb.flac"])
    text_vec = client.embed_text([raw.transcript], model=speech_model.id)[0]
    assert dot(vec, text_vec) > 0.99999


def test_resampled_input_is_transcribed(client, speech_model):
    # espeak-ng's native 22.05 kHz output, resampled by the server (the 16 kHz FLAC was resampled by sox, 1 dB
    # quieter: Whisper tiny is sensitive enough that the two need not give the same words).
    (_, raw22), (_, raw16) = embed_audio_files(
        client, speech_model, [AUDIO / "golden" / "dog-en-us-22k.wav", AUDIO / "golden" / "dog-en-us.flac"])
    _report("22.05 kHz vs 16 kHz clip", [raw22.transcript, raw16.transcript])
    assert "dog" in raw22.transcript and "yard" in raw22.transcript


def test_audio_to_text_recall_at_1(client, speech_model):
    captions = json.loads((AUDIO / "captions.json").read_text())
    paths = sorted((AUDIO / "speech").glob("*.ogg"))
    assert len(paths) == 48
    recall, rows = recall_at_1(client, speech_model, paths, captions)
    _report("clean recall@1", {"recall": recall, "n": len(paths)})
    _report("clean misses", [r for r in rows if not r.get("ok")])
    assert recall >= 0.85


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed (apt-get install sox)")
def test_recall_with_background_noise(client, speech_model, tmp_path):
    subprocess.run([sys.executable, str(REPO_ROOT / "models" / "audio_clips.py"), "--noisy", str(tmp_path),
                    "--snr", "10", "5"], check=True, capture_output=True)
    captions = json.loads((AUDIO / "captions.json").read_text())
    results = {}
    for snr in (10, 5):
        paths = sorted(tmp_path.glob(f"*-snr{snr}.flac"))
        assert len(paths) == 48
        recall, rows = recall_at_1(client, speech_model, paths, captions)
        results[f"{snr} dB"] = {"recall": recall, "refused": sum(1 for r in rows if "status" in r)}
    _report("noisy recall@1 (pink noise)", results)
    assert results["10 dB"]["recall"] >= 0.7


def test_sound_effects_get_no_made_up_vector(client, speech_model):
    paths = sorted((AUDIO / "sfx").glob("*.flac"))
    res = client.embed([rosetta.Audio.from_path(p) for p in paths], model=speech_model.id)
    outcome = {}
    for p, emb in zip(paths, res.embeddings):
        outcome[p.stem] = "vector" if emb.ok else f"{emb.code.name}: {emb.message[:160]}"
    _report("sound effects", outcome)
    for name in outcome:
        assert outcome[name].startswith("FAILED_PRECONDITION"), outcome[name]
        assert "no trustworthy words" in outcome[name]


def test_spoken_sentences_recall_per_voice_and_sounds_without_words_are_refused(client, speech_model):
    """Tests/Fixtures/audio/decoding (models/speech_clips.py): each of 8 sentences spoken in 5 voices (clean en-us,
    en-us with pink noise at 10 dB SNR, slow female British, fast Caribbean, fast Scottish) gets a vector, and its
    nearest of the 8 sentence texts is its own (R@1 per voice, reported); each of 12 sounds without words (tones,
    a C-major chord, sweeps, noises, clicks, hum, melodies) is refused with FAILED_PRECONDITION."""
    sentences = json.loads((AUDIO / "decoding" / "sentences.json").read_text())
    ids = sorted(sentences)
    texts = client.embed_text([sentences[i] for i in ids], model=speech_model.id)
    paths = sorted((AUDIO / "decoding" / "speech").glob("*.ogg"))
    assert len(paths) == 40
    hits, refused, misses = {}, [], []
    for path, (vec, raw) in zip(paths, embed_audio_files(client, speech_model, paths)):
        sentence, voice = path.stem.split("-", 1)
        if vec is None:
            refused.append(f"{path.name}: {raw.status.message[:120]}")
            hits.setdefault(voice, []).append(False)
            continue
        scores = [dot(vec, t) for t in texts]
        best = ids[max(range(len(ids)), key=lambda j: scores[j])]
        hits.setdefault(voice, []).append(best == sentence)
        if best != sentence:
            misses.append({"file": path.name, "transcript": raw.transcript, "best": best})
    recall = {voice: sum(h) / len(h) for voice, h in sorted(hits.items())}
    _report("decoding clips recall@1 per voice", recall)
    _report("decoding clips misses", misses)
    assert not refused, refused
    nonspeech = sorted((AUDIO / "decoding" / "nonspeech").glob("*.ogg"))
    assert len(nonspeech) == 12
    res = client.embed([rosetta.Audio.from_path(p) for p in nonspeech], model=speech_model.id)
    outcome = {p.stem: "vector" if e.ok else f"{e.code.name}: {e.message[:160]}" for p, e in zip(nonspeech, res.embeddings)}
    _report("sounds without words", outcome)
    for name, result in outcome.items():
        assert result.startswith("FAILED_PRECONDITION") and "no trustworthy words" in result, (name, result)


def wav_bytes(samples, rate):
    data = b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32767)) for s in samples)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16) + b"data" + struct.pack("<I", len(data)) + data)


def test_bad_audio_fails_alone(client, speech_model):
    good = (AUDIO / "golden" / "dog-en-us.flac").read_bytes()
    res = client.embed([rosetta.Audio(b"this is not audio at all"), rosetta.Audio(good[: len(good) // 2]),
                        rosetta.Audio(good), "a dog barks"], model=speech_model.id)
    codes = [e.code for e in res.embeddings]
    assert codes[0] == grpc.StatusCode.INVALID_ARGUMENT and "could not be decoded" in res.embeddings[0].message
    assert codes[1] == grpc.StatusCode.INVALID_ARGUMENT and "corrupt or truncated" in res.embeddings[1].message
    assert res.embeddings[2].ok and res.embeddings[3].ok


def test_over_long_audio_is_resource_exhausted(client, speech_model, info):
    seconds = int(info.limits.max_audio_seconds) + 5
    data = b"\0\0" * (4000 * seconds)
    wav = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " +
           struct.pack("<IHHIIHH", 16, 1, 1, 4000, 8000, 2, 16) + b"data" + struct.pack("<I", len(data)) + data)
    res = client.embed([rosetta.Audio(wav)], model=speech_model.id)
    assert res.embeddings[0].code == grpc.StatusCode.RESOURCE_EXHAUSTED, res.embeddings[0].message
    assert "over the limit" in res.embeddings[0].message


def test_long_audio_is_transcribed_across_windows_as_faster_whisper(client, speech_model):
    """Recordings over 30 s (Tests/Fixtures/audio/long, 44 s): windows start where the last complete timestamped
    segment ended, so no words are cut at a fixed 30 s boundary, and the second window is prompted with the
    first one's text; the transcript equals faster-whisper's transcribe() with its defaults
    (decoding/faster-whisper.json, models/reference_speech_decoding.py) word for word."""
    reference = json.loads(DECODING_GOLDEN.read_text())["clips"]
    for file in sorted(f for f in reference if f.startswith("long/")):
        expected = reference[file]["beam5"]
        assert expected["deterministic"]
        raw = client.embed([rosetta.Audio.from_path(AUDIO / file)], model=speech_model.id).raw.results[0]
        _report(f"long audio {file}", {"transcript": raw.transcript, "reference": expected["text"]})
        assert raw.status.code == 0, raw.status.message
        assert raw.transcript.split() == expected["text"].split()


def test_n_best_pools_the_hypotheses_and_keeps_the_transcript(client, speech_model):
    """--speech-n-best 5: the vector of a spoken clip pools the beam's distinct hypotheses weighted by sequence
    probability, so it is near, but not always equal to, the text embedding of the best transcript, which the
    response still carries (the same as the default server's); sounds without words are still refused."""
    from conftest import ServerProcess, startup_timeout

    paths = [AUDIO / "decoding" / "speech" / f"{name}.ogg" for name in ("bike-en-029-fast", "storm-en-us-noise10", "bread-en-us")]
    default = embed_audio_files(client, speech_model, paths)
    s = ServerProcess("n-best", ["--speech-n-best", "5"]).start(startup_timeout())
    try:
        with s.client() as pooled_client:
            pooled = embed_audio_files(pooled_client, speech_model, paths)
            text_vectors = pooled_client.embed_text([raw.transcript for _, raw in pooled], model=speech_model.id)
            refused = pooled_client.embed([rosetta.Audio.from_path(AUDIO / "decoding" / "nonspeech" / "chord-c-major.ogg")],
                                          model=speech_model.id).embeddings[0]
    finally:
        s.stop()
        s.remove_data()
    moved = 0
    for (vec, raw), (base, base_raw), text in zip(pooled, default, text_vectors):
        assert vec is not None and raw.transcript == base_raw.transcript
        assert abs(dot(vec, vec) - 1) < 1e-4
        assert dot(vec, text) > 0.8
        moved += dot(vec, base) < 0.99999
    assert moved >= 1, "no clip had a second hypothesis: the pooling was not exercised"
    assert not refused.ok and refused.code == grpc.StatusCode.FAILED_PRECONDITION
