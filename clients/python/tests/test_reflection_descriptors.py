"""The descriptor set rosetta-server hands to gRPC reflection (Sources/RosettaAPI/ProtoDescriptors.swift, made by
scripts/generate-protos-descriptors) matches Protos/rosetta/v1 as protoc compiles it now. No server needed."""
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT


def test_committed_descriptor_set_matches_protos():
    if shutil.which("protoc") is None:
        pytest.skip("protoc is not installed (apt: protobuf-compiler; make deps)")
    script = REPO_ROOT / "scripts" / "generate-protos-descriptors"
    done = subprocess.run(["bash", str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"run scripts/generate-protos-descriptors\n{done.stdout}{done.stderr}"
