"""The Go client example (clients/go): built offline in GOPATH mode against Debian's Go packages (make deps
installs them), then run against the real server: Info, Embed, CreateCollection, Upsert, Search."""
import os
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT

GO = REPO_ROOT / "clients" / "go"


@pytest.fixture(scope="module")
def go_example(tmp_path_factory):
    if shutil.which("go") is None:
        pytest.fail("go is not installed: `make deps` installs golang-go and the Go gRPC packages", pytrace=False)
    env = dict(os.environ, GOCACHE=str(tmp_path_factory.mktemp("gocache")))
    done = subprocess.run([str(GO / "build")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_go_example_against_server(go_example, server, text_model):
    done = subprocess.run([go_example, "-address", server.address, "-collection", "go-example-test",
                           "-query", "it is snowing in the mountains"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"{text_model.id}: {text_model.dimensions}-d" in out
    assert f'embedded "it is snowing in the mountains": {text_model.dimensions}-d' in out
    first = next(line for line in out.splitlines() if line.strip().startswith("1."))
    assert first.split()[1] == "snow", out


def test_go_example_reports_unreachable_server(go_example):
    done = subprocess.run([go_example, "-address", "127.0.0.1:1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "cannot reach 127.0.0.1:1" in done.stderr


def test_committed_go_stubs_match_the_protos(tmp_path):
    done = subprocess.run([str(GO / "generate"), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    committed = sorted(p.name for p in (GO / "src" / "rosetta" / "v1").glob("*.go"))
    assert sorted(p.name for p in tmp_path.glob("*.go")) == committed
    stale = [name for name in committed if (tmp_path / name).read_bytes() != (GO / "src" / "rosetta" / "v1" / name).read_bytes()]
    assert stale == [], f"run clients/go/generate: {stale} differ from Protos/rosetta/v1"
