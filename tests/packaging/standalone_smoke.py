"""Run in a fresh venv with only eerest-codegen installed: ``python standalone_smoke.py OUT``.

Imports the package ``storage_v1`` that ``eerest-codegen generate --schema storage.v1.json
--out OUT`` wrote, with eerest and earthengine-api made unimportable, and calls it against a
loopback server (the standard library's): a get, a paged list, a media upload, a media
download and an error. Prints ``ok`` and the modules it loaded of the package.
"""

from __future__ import annotations

import importlib.abc
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class _Forbidden(importlib.abc.MetaPathFinder):
    """Earth Engine's SDK and client must not be imported (nor be needed)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in ("eerest", "ee"):
            raise ImportError(f"{name} imported by a standalone package")


sys.meta_path.insert(0, _Forbidden())

REQUESTS: list[tuple[str, str, list[tuple[str, str]], bytes]] = []


class Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        REQUESTS.append((self.command, url.path, parse_qsl(url.query), body))
        query = dict(parse_qsl(url.query))
        status, payload, kind = 200, b"", "application/json"
        if url.path == "/storage/v1/b/missing":
            status, payload = (
                404,
                json.dumps({"error": {"code": 404, "message": "no such bucket", "status": "NOT_FOUND"}}).encode(),
            )
        elif url.path == "/storage/v1/b/bkt":
            payload = json.dumps({"kind": "storage#bucket", "name": "bkt", "location": "EU"}).encode()
        elif url.path == "/storage/v1/b/bkt/o" and self.command == "GET":
            page = (
                {"items": [{"name": "a"}], "nextPageToken": "t"}
                if "pageToken" not in query
                else {"items": [{"name": "b"}]}
            )
            payload = json.dumps(page).encode()
        elif url.path == "/upload/storage/v1/b/bkt/o":
            payload = json.dumps({"name": query.get("name"), "size": str(len(body))}).encode()
        elif url.path == "/storage/v1/b/bkt/o/x" and query.get("alt") == "media":
            payload, kind = b"\x00media bytes", "application/octet-stream"
        else:
            status, payload = 400, json.dumps({"error": {"code": 400, "message": f"unexpected {url.path}"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def main(out: str) -> None:
    sys.path.insert(0, out)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import storage_v1
    from google.auth.credentials import AnonymousCredentials
    from storage_v1.errors import NotFoundError

    url = f"http://127.0.0.1:{server.server_address[1]}"
    with storage_v1.Client("p", credentials=AnonymousCredentials(), base_url=url, max_retries=0) as client:
        bucket = client.buckets.get(bucket="bkt")
        assert (bucket.name, bucket.location) == ("bkt", "EU"), bucket
        assert [o.name for o in client.objects.list(bucket="bkt", prefix="p/")] == ["a", "b"]
        made = client.objects.insert(bucket="bkt", name="x", media_body=b"hello", media_mime_type="text/plain")
        assert (made.name, made.size) == ("x", 5), made
        assert client.objects.get_media(bucket="bkt", object="x") == b"\x00media bytes"
        try:
            client.buckets.get(bucket="missing")
        except NotFoundError as exc:
            assert "no such bucket" in str(exc), exc
        else:
            raise AssertionError("a 404 raised nothing")
    server.shutdown()
    assert [(method, path) for method, path, _, _ in REQUESTS] == [
        ("GET", "/storage/v1/b/bkt"),
        ("GET", "/storage/v1/b/bkt/o"),
        ("GET", "/storage/v1/b/bkt/o"),
        ("POST", "/upload/storage/v1/b/bkt/o"),
        ("GET", "/storage/v1/b/bkt/o/x"),
        ("GET", "/storage/v1/b/missing"),
    ], REQUESTS
    assert ("prefix", "p/") in REQUESTS[1][2] and ("pageToken", "t") in REQUESTS[2][2], REQUESTS
    assert ("uploadType", "media") in REQUESTS[3][2] and REQUESTS[3][3] == b"hello", REQUESTS[3]
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("eerest", "ee"))
    assert not loaded, loaded
    print("ok")
    print(" ".join(sorted(m for m in sys.modules if m.startswith("storage_v1"))))


if __name__ == "__main__":
    main(sys.argv[1])
