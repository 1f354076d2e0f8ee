"""A Hugging Face Hub on loopback for the Hub download tests: the routes huggingface_hub and rosetta-server use.

- `GET /api/models/{org}/{name}/revision/{revision}`: `{"id", "sha", "siblings": [{"rfilename"}]}`;
- `GET /api/models/{org}/{name}/tree/{revision}?recursive=true`: the files with their git and LFS ids, one page;
- `HEAD|GET /{org}/{name}/resolve/{revision}/{path}`: files in git answer 200 with `ETag` (their git blob sha1);
  LFS files answer 302 to the CDN (another origin) with `X-Linked-Etag` (sha256) and `X-Linked-Size`; both carry
  `X-Repo-Commit`;
- the CDN serves blobs by sha256 with `Range` support (206), and can be told to refuse requests that carry an
  Authorization header (as a presigned S3 URL does), to break off a download half-way, or to corrupt it;
- private repositories answer 401 without the right bearer token, gated ones 403; unknown ones 404 with
  `X-Error-Code: RepoNotFound` (or `RevisionNotFound`).
Every request is logged in `requests` as (origin, method, path, headers)."""
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class Repo:
    files: dict  # path -> bytes
    lfs: set = field(default_factory=set)  # paths stored in LFS
    commit: str = ""
    private: bool = False
    gated: bool = False

    def __post_init__(self):
        if not self.commit:
            digest = hashlib.sha1()
            for path in sorted(self.files):
                digest.update(path.encode() + b"\0" + self.files[path])
            self.commit = digest.hexdigest()


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, headers=None, body=b"", send_body=True):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class MockHub:
    TOKEN = "hf_mocktoken"

    def __init__(self):
        self.repos = {}
        self.requests = []
        self.refuse_auth_on_cdn = False
        self.break_after = None  # bytes: the next CDN download stops there (once)
        self.corrupt = False  # CDN flips a byte of every blob it sends
        self.lock = threading.Lock()
        self.api = self._serve(self._api_handler())
        self.cdn = self._serve(self._cdn_handler())

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.api.server_address[1]}"

    def add(self, repo_id, repo: Repo):
        self.repos[repo_id] = repo
        return repo

    def close(self):
        for server in (self.api, self.cdn):
            server.shutdown()
            server.server_close()

    def requested(self, origin=None, method=None):
        with self.lock:
            return [r for r in self.requests if (origin is None or r[0] == origin) and (method is None or r[1] == method)]

    def _serve(self, handler):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def _log(self, origin, handler):
        with self.lock:
            self.requests.append((origin, handler.command, handler.path, dict(handler.headers)))

    def _api_handler(hub):
        class Handler(_Handler):
            def do_GET(self):
                self._route(body=True)

            def do_HEAD(self):
                self._route(body=False)

            def _error(self, status, code, message, send_body):
                body = json.dumps({"error": message}).encode()
                self._send(status, {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"},
                           body, send_body)

            def _authorized(self, repo, send_body):
                if not (repo.private or repo.gated):
                    return True
                if self.headers.get("Authorization") == f"Bearer {MockHub.TOKEN}":
                    return True
                if repo.private:
                    self._error(401, "RepoNotFound", "Invalid username or password.", send_body)
                else:
                    self._error(403, "GatedRepo", "Access to this model is restricted.", send_body)
                return False

            def _route(self, body):
                hub._log("api", self)
                path = unquote(urlsplit(self.path).path)
                parts = path.strip("/").split("/")
                if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] == "revision":
                    return self._revision("/".join(parts[2:4]), "/".join(parts[5:]), body)
                if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] == "tree":
                    return self._tree("/".join(parts[2:4]), parts[5], body)
                if len(parts) >= 5 and parts[2] == "resolve":
                    return self._resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]), body)
                self._error(404, "EntryNotFound", f"no route {path}", body)

            def _repo(self, repo_id, revision, send_body):
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._error(404, "RepoNotFound", f"Repository Not Found for url: {self.path}", send_body)
                    return None
                if not self._authorized(repo, send_body):
                    return None
                if revision not in ("main", repo.commit):
                    self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", send_body)
                    return None
                return repo

            def _revision(self, repo_id, revision, send_body):
                repo = self._repo(repo_id, revision, send_body)
                if repo is None:
                    return
                info = {"id": repo_id, "modelId": repo_id, "sha": repo.commit, "private": repo.private,
                        "gated": "manual" if repo.gated else False,
                        "siblings": [{"rfilename": p} for p in sorted(repo.files)]}
                self._send(200, {"Content-Type": "application/json"}, json.dumps(info).encode(), send_body)

            def _tree(self, repo_id, revision, send_body):
                repo = self._repo(repo_id, revision, send_body)
                if repo is None:
                    return
                entries, folders = [], set()
                for path in sorted(repo.files):
                    data = repo.files[path]
                    parts = path.split("/")
                    folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
                    entry = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": path}
                    if path in repo.lfs:
                        entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                    entries.append(entry)
                entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": f} for f in sorted(folders)]
                self._send(200, {"Content-Type": "application/json"}, json.dumps(entries).encode(), send_body)

            def _resolve(self, repo_id, revision, file, send_body):
                repo = self._repo(repo_id, revision, send_body)
                if repo is None:
                    return
                data = repo.files.get(file)
                if data is None:
                    return self._error(404, "EntryNotFound", f"{file} does not exist on {revision}", send_body)
                headers = {"X-Repo-Commit": repo.commit}
                if file in repo.lfs:
                    sha = hashlib.sha256(data).hexdigest()
                    cdn = f"http://localhost:{hub.cdn.server_address[1]}/blobs/{sha}?signature=mock"
                    headers.update({"Location": cdn, "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data)),
                                    "ETag": f'"{git_blob_sha1(data)}"'})
                    return self._send(302, headers, b"", send_body)
                headers.update({"ETag": f'"{git_blob_sha1(data)}"', "Content-Type": "application/octet-stream"})
                self._send(200, headers, data, send_body)

        return Handler

    def _cdn_handler(hub):
        class Handler(_Handler):
            def do_HEAD(self):
                self.do_GET(send_body=False)

            def do_GET(self, send_body=True):
                hub._log("cdn", self)
                sha = urlsplit(self.path).path.rsplit("/", 1)[-1]
                blob = next((data for repo in hub.repos.values() for path, data in repo.files.items()
                             if path in repo.lfs and hashlib.sha256(data).hexdigest() == sha), None)
                if hub.refuse_auth_on_cdn and "Authorization" in self.headers:
                    return self._send(400, body=b"Only one auth mechanism allowed", send_body=send_body)
                if blob is None:
                    return self._send(404, body=b"NoSuchKey", send_body=send_body)
                if hub.corrupt:
                    blob = bytes([blob[0] ^ 1]) + blob[1:]
                start, status = 0, 200
                headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", "ETag": f'"{sha}"'}
                ranged = self.headers.get("Range", "")
                if ranged.startswith("bytes=") and ranged.endswith("-"):
                    start = int(ranged[len("bytes="):-1])
                    if start >= len(blob):
                        return self._send(416, {"Content-Range": f"bytes */{len(blob)}"}, send_body=send_body)
                    status = 206
                    headers["Content-Range"] = f"bytes {start}-{len(blob) - 1}/{len(blob)}"
                body = blob[start:]
                if hub.break_after is None or not send_body:
                    return self._send(status, headers, body, send_body)
                # Announce the whole body, send part of it, drop the connection (once).
                cut, hub.break_after = hub.break_after, None
                self._send(status, {**headers, "Content-Length": str(len(body))}, body[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)

        return Handler
