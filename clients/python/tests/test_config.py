"""Configuration of the real server: config file (--config), environment and flags, with precedence
flags > environment > file > defaults, and start-up refusal with a clear message for anything invalid."""
import json
import os
import subprocess

import pytest

from conftest import ServerProcess, server_bin, startup_timeout


def _run(args, env_extra=None, tmp_path=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([str(server_bin()), "--address", "127.0.0.1:0", "--in-memory"] + args, env=env,
                          capture_output=True, text=True, timeout=60)


def test_precedence_flags_over_environment_over_file(tmp_path, monkeypatch):
    config = tmp_path / "rosetta.json"
    config.write_text(json.dumps({"max-batch-items": 7, "max-text-chars": 1234, "max-collections": 9,
                                  "log-level": "info"}))
    monkeypatch.setenv("ROSETTA_MAX_TEXT_CHARS", "555")
    monkeypatch.setenv("ROSETTA_MAX_COLLECTIONS", "11")
    s = ServerProcess("config", ["--config", str(config), "--max-collections", "13"]).start(startup_timeout())
    try:
        with s.client() as c:
            limits = c.info().limits
        assert limits.max_batch_items == 7  # file
        assert limits.max_text_chars == 555  # environment over file
        assert limits.max_collections == 13  # flag over environment and file
        assert limits.max_message_bytes == 16 << 20  # default
    finally:
        s.stop()
        s.remove_data()


@pytest.mark.parametrize("content,message", [
    ({"max-batch-itemz": 7}, "unknown key 'max-batch-itemz'"),
    ({"max-batch-items": "seven"}, "'max-batch-items' must be a whole number, got \"seven\""),
    ({"max-batch-items": -1}, "--max-batch-items must be positive, got -1"),
    ({"precision": "float8"}, "--precision 'float8' is not one of float32, bfloat16"),
    ({"speech-n-best": 6}, "--speech-n-best must be between 1 and --speech-beam-size (5), got 6"),
    ({"speech-beam-size": 1, "speech-n-best": 2}, "--speech-n-best must be between 1 and --speech-beam-size (1), got 2"),
    ({"remote-media": True}, "--remote-media applies to the HTTP API: give --http-address too"),
    ({"http-address": "127.0.0.1:0", "remote-media-allow-private": True}, "--remote-media-allow-private needs --remote-media"),
    ({"http-address": "127.0.0.1:0", "remote-media": True, "remote-media-timeout": 0},
     "--remote-media-timeout must be between 0 and 600 seconds, got 0.0"),
    ("{not json", "is not a JSON object"),
])
def test_bad_config_file_stops_the_start(tmp_path, content, message):
    config = tmp_path / "rosetta.json"
    config.write_text(content if isinstance(content, str) else json.dumps(content))
    proc = _run(["--config", str(config)])
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr


def test_missing_config_file_stops_the_start(tmp_path):
    proc = _run([], {"ROSETTA_CONFIG": str(tmp_path / "absent.json")})
    assert proc.returncode != 0 and "cannot read config file" in proc.stderr, proc.stderr


@pytest.mark.parametrize("name,value,message", [
    ("ROSETTA_MAX_BATCH_ITEMS", "lots", "ROSETTA_MAX_BATCH_ITEMS='lots' is not a whole number"),
    ("ROSETTA_DRAIN_SECONDS", "soon", "ROSETTA_DRAIN_SECONDS='soon' is not a number"),
    ("ROSETTA_IN_MEMORY", "perhaps", "ROSETTA_IN_MEMORY='perhaps' is not true or false"),
])
def test_unparseable_environment_value_stops_the_start(name, value, message):
    proc = _run([], {name: value})
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
