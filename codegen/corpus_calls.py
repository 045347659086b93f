"""One generated method against google-api-python-client: the wire (sync and async) and the
typed result of a response built from the response schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .corpus_values import gapi_name, plain, response_value, tricky_arguments
from .ir import Api, Method

__all__ = ["Harness", "normal", "first_difference"]

#: What ``fullyEncodeReservedExpansion`` encodes in ``{+x}`` and google-api-python-client
#: (which ignores the flag) leaves raw: the only difference the comparison forgives.
_RESERVED = ":@!$&'()*+,;=[]"
_MEDIA = b"\x00\xffmedia \xc3\xbc"


def normal(method: str, url: str, body: bytes | str | None, headers: Mapping[str, str]) -> dict[str, Any]:
    """A request as compared: method, URL without query, sorted decoded query (``alt=json``
    aside: google-api-python-client adds it), JSON body, ``x-goog-api-version``."""
    parts = urlsplit(url)
    query = sorted(q for q in parse_qsl(parts.query, keep_blank_values=True) if q != ("alt", "json"))
    data = body.decode() if isinstance(body, bytes) else body
    lower = {k.lower(): v for k, v in headers.items()}
    return {
        "method": method,
        "url": f"{parts.scheme}://{parts.netloc}{parts.path}",
        "query": query,
        "body": json.loads(data) if data else None,
        "api_version": lower.get("x-goog-api-version"),
    }


def _relaxed(request: dict[str, Any]) -> dict[str, Any]:
    url = request["url"]
    for c in _RESERVED:
        url = url.replace("%" + format(ord(c), "02X"), c).replace("%" + format(ord(c), "02x"), c)
    return {**request, "url": url}


def first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two JSON values first differ, e.g. ``.items[0].size: '5' != 5``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: {'missing' if key not in a else repr(a[key])[:80]} != {'missing' if key not in b else repr(b[key])[:80]}"
            if a[key] != b[key]:
                return first_difference(a[key], b[key], f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path or '.'}: {repr(a)[:120]} != {repr(b)[:120]}"


class Harness:
    """A generated package's sync and async clients on mock transports that record each
    request and answer the reply set for the call, beside google-api-python-client."""

    def __init__(self, module: Any, resources: Any, api: Api, doc: Mapping[str, Any], server: Any = None) -> None:
        """``server``: a loopback HTTP server (``url``, ``requests``, ``reply``) that both
        clients really send to, google-api-python-client's requests executed too; without
        one, eerest's requests go to a mock transport and google-api-python-client's are
        only built."""
        import httpx
        from google.auth.credentials import AnonymousCredentials
        from googleapiclient.discovery import build_from_document
        from googleapiclient.http import HttpMock

        self.api = api
        self.specs = resources.SPECS
        self.server = server
        self.sent: list[httpx.Request] = []
        self.reply: tuple[bytes, str] = (b"{}", "application/json")
        self.theirs_result: Any = None
        self.loop = asyncio.new_event_loop()
        credentials = AnonymousCredentials()
        if server is None:
            self._http = httpx.Client(transport=httpx.MockTransport(self._answer))
            self._ahttp = httpx.AsyncClient(transport=httpx.MockTransport(self._answer))
            options: dict[str, Any] = {}
            self.service = build_from_document(dict(doc), http=HttpMock())
        else:
            import httplib2

            self._http, self._ahttp = httpx.Client(), httpx.AsyncClient()
            options = {"base_url": server.url}
            moved = {**doc, "rootUrl": server.url + "/", "baseUrl": server.url + "/" + doc.get("servicePath", "")}
            self.service = build_from_document(moved, http=httplib2.Http())
        self.doc = doc
        self._descriptions: dict[str, Mapping[str, Any]] = {}
        self._siblings: dict[str, set[str]] = {}
        self._index(doc)
        self.client = module.Client("p", credentials=credentials, http_client=self._http, max_retries=0, **options)
        self.aclient = module.AsyncClient(
            "p", credentials=credentials, http_client=self._ahttp, max_retries=0, **options
        )

    def _answer(self, request: Any) -> Any:
        import httpx

        self.sent.append(request)
        body, content_type = self.reply
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    def close(self) -> None:
        self.client.close()
        self.loop.run_until_complete(self.aclient.close())
        self._http.close()
        self.loop.run_until_complete(self._ahttp.aclose())
        self.loop.close()

    def _theirs(self, path: tuple[str, ...], m: Method, kwargs: dict[str, Any]) -> dict[str, Any]:
        resource = self.service
        for part in path:
            resource = getattr(resource, part)()
        name = gapi_name(m.name) + ("_media" if m.media_download else "")
        if m.name in self._children(m.id):
            # a method named as a sibling resource, which hides it on google-api-python-client's
            # resource: made as that client makes its methods, and called on that resource
            from googleapiclient.discovery import createMethod

            suffix = "_media" if m.media_download else ""
            _, method = createMethod(m.name + suffix, self._descriptions[m.id], self.doc, resource._schema)
            request = method(resource, **kwargs)
        else:
            request = getattr(resource, name)(**kwargs)
        if self.server is None:
            return normal(request.method, request.uri, request.body, request.headers)
        self._serve()
        self.theirs_result = request.execute()
        return self._last()

    def _children(self, method_id: str) -> set[str]:
        """The names of the resources beside a method (``set()`` for unknown ids)."""
        return self._siblings.get(method_id, set())

    def _index(self, node: Mapping[str, Any]) -> None:
        children = set(node.get("resources") or {})
        for body in (node.get("methods") or {}).values():
            if isinstance(body, Mapping) and body.get("id"):
                self._descriptions[body["id"]] = body
                self._siblings[body["id"]] = children
        for child in (node.get("resources") or {}).values():
            self._index(child)

    def _serve(self) -> None:
        if self.server is not None:
            body, content_type = self.reply
            self.server.reply(body=body, content_type=content_type)

    def _count(self) -> int:
        return len(self.sent if self.server is None else self.server.requests)

    def _last(self) -> dict[str, Any]:
        if self.server is not None:
            r = self.server.requests[-1]
            url = self.server.url + r.path + ("?" + urlencode(r.query) if r.query else "")
            return normal(r.method, url, r.body, r.headers)
        request = self.sent[-1]
        return normal(request.method, str(request.url), request.content, request.headers)

    def _call_sync(self, path: tuple[str, ...], m: Method, kwargs: dict[str, Any]) -> Any:
        resource = self.client
        for part in path:
            resource = getattr(resource, part)
        result = getattr(resource, m.py_name)(**kwargs)
        return next(iter(result.pages)) if m.pagination else result

    def _call_async(self, path: tuple[str, ...], m: Method, kwargs: dict[str, Any]) -> Any:
        resource = self.aclient
        for part in path:
            resource = getattr(resource, part)

        async def call() -> Any:
            if m.pagination:
                pager = getattr(resource, m.py_name)(**kwargs)
                async for page in pager.pages:
                    return page
                return None
            return await getattr(resource, m.py_name)(**kwargs)

        return self.loop.run_until_complete(call())

    def check(self, ours_path: tuple[str, ...], gapi_path: tuple[str, ...], m: Method) -> dict[str, str]:
        """``{"wire": ..., "async": ..., "decode": ...}``, each ``ok`` or what went wrong
        (``wire`` may be ``ok (reserved expansion)`` or ``uncomparable: ...``)."""
        out: dict[str, str] = {}
        ours_kwargs, gapi_kwargs, _body = tricky_arguments(m, self.api)
        expected = response_value(m, self.api)
        if m.media_download or m.binary_response:
            self.reply = (_MEDIA, "application/octet-stream")
        else:
            wrapped = {"data": expected} if self.api.data_wrapper and expected is not None else expected
            self.reply = (json.dumps({} if wrapped is None else wrapped).encode(), "application/json")
        try:
            theirs: dict[str, Any] | None = self._theirs(gapi_path, m, gapi_kwargs)
        except Exception as exc:  # google-api-python-client refuses: eerest must still send
            theirs = None
            out["wire"] = f"uncomparable: google-api-python-client: {type(exc).__name__}: {exc}"[:300]
        before = self._count()
        self._serve()
        try:
            result = self._call_sync(ours_path, m, ours_kwargs)
        except Exception as exc:
            return {
                "wire": f"eerest failed: {type(exc).__name__}: {exc}"[:300],
                "async": "not run",
                "decode": "not run",
            }
        if self._count() == before:
            return {"wire": "eerest sent nothing", "async": "not run", "decode": "not run"}
        ours = self._last()
        if theirs is not None:
            if ours == theirs:
                out["wire"] = "ok"
            elif self.api.fully_encode_reserved_expansion and _relaxed(ours) == _relaxed(theirs):
                out["wire"] = "ok (reserved expansion)"
            else:
                out["wire"] = f"mismatch: {first_difference(ours, theirs)}"[:400]
        out["decode"] = self._decoded(m, result, expected)
        decoded_by_both = self.server is not None and theirs is not None and out["decode"] == "ok"
        if (
            decoded_by_both and expected is not None and self.theirs_result != expected
        ):  # google-api-python-client's too
            out["decode"] = f"fail: google-api-python-client: {first_difference(self.theirs_result, expected)}"
        self._serve()
        try:
            aresult = self._call_async(ours_path, m, ours_kwargs)
        except Exception as exc:
            out["async"] = f"eerest failed: {type(exc).__name__}: {exc}"[:300]
        else:
            if self._last() != ours:
                out["async"] = f"mismatch with sync: {first_difference(self._last(), ours)}"[:400]
            else:
                decoded = self._decoded(m, aresult, expected)
                out["async"] = "ok" if decoded in ("ok", "n/a") else f"decode: {decoded}"
        return out

    def _decoded(self, m: Method, result: Any, expected: Any) -> str:
        if m.media_download or m.binary_response:
            return "ok" if result == _MEDIA else f"fail: bytes expected, got {type(result).__name__}"
        if expected is None:
            return "ok" if result is None else f"fail: None expected, got {type(result).__name__}"
        spec = self.specs[m.id[len(self.api.name) + 1 :] if m.id.startswith(self.api.name + ".") else m.id]
        try:
            got = plain(result, spec.response if m.response_type is not None else None)
        except Exception as exc:
            return f"fail: {type(exc).__name__}: {exc}"[:300]
        return "ok" if got == expected else f"fail: {first_difference(got, expected)}"[:400]
