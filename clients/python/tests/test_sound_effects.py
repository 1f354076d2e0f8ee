"""The audio-to-audio space (aiSFX, model "aisfx") through the real server.

Evidence for issue 6, item 4, printed (pytest -s): sound variants made here with sox (the kinds below, each in
three variants that differ in pitch, length, level or random seed) are stored in an aisfx collection, and each
variant searches for its nearest other item: leave-one-out recall@1 of the sound kind. Also: Info lists the
space, it takes only audio, refuses instructions, and Whisper's no-speech refusal points to it.
Needs models/aisfx (models/fetch); fails without it unless ROSETTA_SKIP_MODEL_TESTS=1.
"""
import subprocess

import grpc
import pytest

import rosetta
from conftest import _model_tests_skipped
from rosetta.v1 import common_pb2

pytestmark = pytest.mark.model

# kind -> three sox synth effects (16 kHz mono; the server resamples to 44.1 kHz)
KINDS = {
    "pinknoise": [["synth", "2", "pinknoise", "vol", "0.3"], ["synth", "3", "pinknoise", "vol", "0.15"],
                  ["synth", "2.5", "pinknoise", "vol", "0.5"]],
    "brownnoise": [["synth", "2", "brownnoise", "vol", "0.3"], ["synth", "3", "brownnoise", "vol", "0.15"],
                   ["synth", "2.5", "brownnoise", "vol", "0.5"]],
    "tone": [["synth", "2", "sine", "440", "vol", "0.4"], ["synth", "3", "sine", "520", "vol", "0.3"],
             ["synth", "2.5", "sine", "380", "vol", "0.5"]],
    "sweep": [["synth", "2", "sine", "200-4000", "vol", "0.4"], ["synth", "3", "sine", "300-5000", "vol", "0.3"],
              ["synth", "2.5", "sine", "150-3500", "vol", "0.5"]],
    "buzz": [["synth", "2", "square", "110", "vol", "0.3"], ["synth", "3", "square", "130", "vol", "0.2"],
             ["synth", "2.5", "square", "95", "vol", "0.4"]],
    "clicks": [["synth", "2", "square", "4", "vol", "0.4"], ["synth", "3", "square", "5", "vol", "0.3"],
               ["synth", "2.5", "square", "3", "vol", "0.5"]],
}


@pytest.fixture(scope="module")
def sfx_model(info):
    model = next((m for m in info.models if m.id == "aisfx"), None)
    if model is None:
        msg = "the server has no model 'aisfx': run models/fetch"
        if _model_tests_skipped():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return model


@pytest.fixture(scope="module")
def sounds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sfx")
    out = {}
    for kind, variants in KINDS.items():
        for i, effect in enumerate(variants):
            path = folder / f"{kind}-{i}.flac"
            subprocess.run(["sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", str(path)] + effect, check=True)
            out[f"{kind}-{i}"] = path
    return out


def test_info_describes_the_audio_to_audio_space(sfx_model):
    assert list(sfx_model.modalities) == [common_pb2.MODALITY_AUDIO]
    assert sfx_model.dimensions == 512 and sfx_model.space.startswith("aisfx:")


def test_sound_kinds_find_each_other(client, sfx_model, sounds):
    name = "pytest-sfx"
    client.create_collection(name, model="aisfx")
    try:
        client.upsert(name, [rosetta.Item(id=n, audio=rosetta.Audio.from_path(p), metadata={"kind": n.split("-")[0]})
                             for n, p in sounds.items()])
        hits, rows = 0, []
        for n, p in sounds.items():
            found = [h for h in client.search(name, audio=rosetta.Audio.from_path(p), top_k=2) if h.id != n][0]
            ok = found.metadata["kind"] == n.split("-")[0]
            hits += ok
            rows.append(f"{n}->{found.id} ({found.score:.3f}){'' if ok else ' MISS'}")
        recall = hits / len(sounds)
        print(f"\n[aisfx] leave-one-out recall@1 of the sound kind: {recall:.3f} ({hits}/{len(sounds)}): " + ", ".join(rows))
        assert recall >= 0.8, rows
    finally:
        client.delete_collection(name)


def test_it_takes_only_audio_and_no_instruction(client, sfx_model, sounds):
    clip = rosetta.Audio.from_path(sounds["tone-0"])
    result = client.embed([clip, "a text"], model="aisfx")
    assert result.embeddings[0].ok and len(result.embeddings[0].vector) == 512
    assert result.embeddings[1].code == grpc.StatusCode.FAILED_PRECONDITION  # a modality the model does not take
    with pytest.raises(rosetta.RosettaError) as e:
        client.embed([clip], model="aisfx", instruction="the dog").raise_for_status()
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "no instruction" in e.value.message
    assert sfx_model.max_instruction_tokens == 0, sfx_model


def test_speech_bridge_points_non_speech_to_it(client, text_model, sfx_model, sounds):
    result = client.embed([rosetta.Audio.from_path(sounds["pinknoise-0"])], model=text_model.id)
    assert result.embeddings[0].code == grpc.StatusCode.FAILED_PRECONDITION
    assert "model 'aisfx'" in result.embeddings[0].message
