"""The generator over every Discovery document google-api-python-client ships.

``python -m codegen.corpus`` (``nox -s corpus``) runs two worker processes with different
``PYTHONHASHSEED``s. Each generates every document into its own directory, imports the
package, constructs a sync and an async client, and sends a sample of calls per API
through both eerest and google-api-python-client, comparing what goes on the wire (method,
URL, query, JSON body, ``x-goog-api-version``). The project's own documents (``schema/``)
are checked the same way, but with EVERY method called, every query parameter and every
request-body field given a value. In every document, a method whose ``request`` or
``response`` the generated package lost (no body argument, no result) fails the document.
The parent then compares the two workers' outputs byte for byte. Exit status 0 only if
every document passes and the outputs agree.

    python -m codegen.corpus                      # every document, 2 processes
    python -m codegen.corpus --only storage.v1 drive.v3 --keep out/corpus
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from codegen.discovery import BODY_ARGUMENT, Options, load_api
from codegen.ir import Api, Method, Param, TypeRef
from codegen.pipeline import generate_standalone

__all__ = ["body_value", "documents", "dropped", "every_call", "full_arguments", "main", "sample_calls"]

SEEDS = ("1", "2")
CALLS_PER_API = 4


def documents_dir() -> Path:
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("google-api-python-client is not installed: pip install -r requirements/test.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents"


#: The project's own discovery documents: every method of these is compared on the wire.
PROJECT_SCHEMAS = Path(__file__).resolve().parents[1] / "schema"


def project_documents() -> list[Path]:
    return sorted(PROJECT_SCHEMAS.glob("*.json"))


def documents(only: Sequence[str] = ()) -> list[Path]:
    """The shipped documents (``name.version.json``) and the project's own, sorted; ``only``
    selects by stem."""
    shipped = [p for p in sorted(documents_dir().glob("*.json")) if p.name != "index.json"]  # index: the directory list
    names = {p.name for p in shipped}
    found = shipped + [p for p in project_documents() if p.name not in names]
    if only:
        wanted = set(only)
        found = [p for p in found if p.stem in wanted]
    return found


def _package(path: Path) -> str:
    return "corpus_" + re.sub(r"\W", "_", path.stem)


# -- one call's arguments, as both clients take them ---------------------------------


def _example(pattern: str) -> str:
    """A short string that ``re.fullmatch(pattern, ...)`` accepts (``^projects/[^/]+$`` ->
    ``projects/a``), built from the parsed pattern: first branches, fewest repeats (one at
    least), a permitted character per class."""
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # Python 3.10
        import sre_parse as parser

    def in_category(c: str, category: Any) -> bool:
        name = str(category)
        ok = c.isdigit() if "DIGIT" in name else (c.isalnum() or c == "_") if "WORD" in name else c.isspace()
        return ok != ("NOT_" in name)

    def char(items: Any) -> str:
        negated = any(op == parser.NEGATE for op, _ in items)
        for candidate in ("a", "1", "x", "Z", "-", "_", "."):
            allowed = False
            for op, av in items:
                if op == parser.LITERAL:
                    allowed = allowed or chr(av) == candidate
                elif op == parser.RANGE:
                    allowed = allowed or av[0] <= ord(candidate) <= av[1]
                elif op == parser.CATEGORY:
                    allowed = allowed or in_category(candidate, av)
            if allowed != negated:
                return candidate
        return "a"

    def walk(items: Any) -> str:
        out = []
        for op, av in items:
            if op == parser.LITERAL:
                out.append(chr(av))
            elif op == parser.NOT_LITERAL:
                out.append("b" if chr(av) == "a" else "a")
            elif op == parser.ANY:
                out.append("a")
            elif op == parser.IN:
                out.append(char(av))
            elif op in (parser.MAX_REPEAT, parser.MIN_REPEAT):
                low, _high, sub = av
                out.append(walk(sub) * max(low, 1))
            elif op == parser.SUBPATTERN:
                out.append(walk(av[-1]))
            elif op == parser.BRANCH:
                out.append(walk(av[1][0]))
            elif op == parser.CATEGORY:
                out.append(char([(op, av)]))
        return "".join(out)

    return walk(parser.parse(pattern))


def _path_value(param: Param, index: int) -> str:
    """A value matching the parameter's pattern, if it has one."""
    if param.enum_values:
        return param.enum_values[-1]
    if param.type.kind == "integer":
        return str(7 + index)
    if not param.pattern:
        return f"v{index}"
    for candidate in (_example(param.pattern), "abc", "a1", "123", f"v{index}"):
        if re.search(param.pattern, candidate):
            return candidate
    return f"v{index}"


def _query_value(param: Param) -> Any:
    t = param.type.item if param.type.kind == "array" and param.type.item else param.type
    if param.enum_values:
        value: Any = param.enum_values[-1]
    elif t.kind == "boolean":
        value = True
    elif t.kind == "integer":
        value = 3
    elif t.kind == "number":
        value = 1.5
    elif t.kind == "string" and t.format in ("int64", "uint64"):
        value = 5
    elif t.kind == "string" and t.format in ("google-datetime", "date-time"):
        value = "2024-01-02T03:04:05Z"
    elif t.kind == "string" and t.format == "google-duration":
        value = "3.5s"
    elif t.kind == "string" and t.format == "byte":
        return None
    else:
        value = "s"
    return [value, value] if param.type.kind == "array" else value


def _gapi_name(name: str) -> str:
    """google-api-python-client's Python name for a discovery name (``key2param``)."""
    import keyword

    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not out or not out[0].isalpha():
        out = "x" + out
    return out + "_" if keyword.iskeyword(out) else out


def sample_calls(api: Api) -> list[tuple[tuple[str, ...], tuple[str, ...], Method]]:
    """Up to ``CALLS_PER_API`` methods spread over the API (plus media twins):
    (eerest attribute path, google-api-python-client attribute path, method)."""
    found: list[tuple[tuple[str, ...], tuple[str, ...], Method]] = []

    def walk(resources: Any, ours: tuple[str, ...], theirs: tuple[str, ...]) -> None:
        for r in resources:
            mine = (*ours, r.py_name)
            gapi = theirs if r.class_name == "Root" and not ours else (*theirs, _gapi_name(r.name))
            for m in r.methods:
                found.append((mine, gapi, m))
            walk(r.resources, mine, gapi)

    walk(api.resources, (), ())
    plain = [f for f in found if not f[2].media_download]
    n = len(plain)
    picks = sorted({0, n // 3, (2 * n) // 3, n - 1}) if n else []
    chosen = [plain[i] for i in picks[:CALLS_PER_API]]
    media = [f for f in found if f[2].media_download][:1]
    return chosen + media


def _arguments(m: Method) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(eerest kwargs, google-api-python-client kwargs, JSON body) for one call."""
    ours: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    for i, p in enumerate(m.params):
        if p.location == "path":
            value: Any = _path_value(p, i)
        elif p.required or p.name in ("fields", "quotaUser", "prettyPrint") or i % 2 == 0:
            value = _query_value(p)
            if value is None:
                continue
        else:
            continue
        ours[p.py_name] = value
        theirs[_gapi_name(p.name)] = value
    body = None
    if m.request:
        body = {}
        for f in m.body_fields:
            if f.type.kind == "string" and not f.type.format:
                body[f.name] = "b"
                ours[f.py_name] = "b"
                break
        theirs["body"] = body
    return ours, theirs, body


def every_call(api: Api) -> list[tuple[tuple[str, ...], tuple[str, ...], Method]]:
    """Every method of the API (media twins included), as :func:`sample_calls` lists them."""
    found: list[tuple[tuple[str, ...], tuple[str, ...], Method]] = []

    def walk(resources: Any, ours: tuple[str, ...], theirs: tuple[str, ...]) -> None:
        for r in resources:
            mine = (*ours, r.py_name)
            gapi = theirs if r.class_name == "Root" and not ours else (*theirs, _gapi_name(r.name))
            found.extend((mine, gapi, m) for m in r.methods)
            walk(r.resources, mine, gapi)

    walk(api.resources, (), ())
    return found


def body_value(t: TypeRef, api: Api, depth: int = 0) -> Any:
    """A JSON value of type ``t`` in its wire form, which both clients accept as is (None:
    leave the field out: bytes, which eerest takes as ``bytes``, and messages nested
    deeper than two levels)."""
    if t.kind == "string":
        return {
            "int64": "5",
            "uint64": "6",
            "google-datetime": "2024-01-02T03:04:05Z",
            "date-time": "2024-01-02T03:04:05Z",
            "date": "2024-01-02",
            "google-duration": "3.5s",
            "google-fieldmask": "a,b.c",
        }.get(t.format or "", None if t.format == "byte" else "b")
    if t.kind == "integer":
        return 3
    if t.kind == "number":
        return 0.5  # in [0, 1]: opacities and fractions pass the overlays' checks
    if t.kind == "boolean":
        return True
    if t.kind == "any":
        return {"k": [1, "x"]}
    if t.kind == "enum":
        enum = next(e for e in api.enums if e.name == t.name)
        return enum.values[-1].value
    if t.kind in ("array", "map"):
        assert t.item is not None
        item = body_value(t.item, api, depth)
        if item is None:
            return None
        return [item] if t.kind == "array" else {"k": item}
    if t.kind == "message":
        if depth >= 2:
            return None
        message = next(m for m in api.messages if m.name == t.name)
        values = {f.name: body_value(f.type, api, depth + 1) for f in message.fields if not f.read_only}
        return {k: v for k, v in values.items() if v is not None}
    raise AssertionError(t)


def full_arguments(
    m: Method, api: Api, body_overrides: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(eerest kwargs, google-api-python-client kwargs, JSON body) for one call with every
    parameter and every request-body field given a value (``body_overrides``: by wire name,
    e.g. a value a hand-written overlay's checks accept)."""
    ours: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    for i, p in enumerate(m.params):
        value = _path_value(p, i) if p.location == "path" else _query_value(p)
        if value is None or p.name == "prettyPrint":  # google-api-python-client adds prettyPrint=false itself
            continue
        ours[p.py_name] = value
        theirs[_gapi_name(p.name)] = value
    body = None
    if m.request_type is not None:
        body = {"k": body_value(m.request_type.item or TypeRef("any"), api) if m.request_type.item else 1}
        ours[BODY_ARGUMENT] = body
        theirs["body"] = body
    elif m.request:
        body = {}
        for f in m.body_fields:
            value = (body_overrides or {}).get(f.name, body_value(f.type, api))
            if value is not None:
                body[f.name] = value
                ours[f.py_name] = value
        theirs["body"] = body
    return ours, theirs, body


def dropped(doc: Mapping[str, Any], api: Api, specs: Mapping[str, Any]) -> list[str]:
    """Methods of ``doc`` whose request or response the generated package lost: a declared
    ``request`` without a request type and a way to pass the body, a declared ``response``
    without a result (only ``Empty`` may return None, and only HttpBody may be bytes)."""
    problems: list[str] = []
    by_id = {m.id: m for m in api.all_methods() if not m.media_download}

    def walk(node: Mapping[str, Any]) -> None:
        for name, body in (node.get("methods") or {}).items():
            method_id = body.get("id") or name
            m = by_id.get(method_id)
            if m is None:
                problems.append(f"{method_id}: not generated")
                continue
            spec = specs[method_id[len(api.name) + 1 :] if method_id.startswith(api.name + ".") else method_id]
            takes_body = m.body_fields or m.request_type is not None or _fieldless(api, m)
            if body.get("request") is not None and (spec.request is None or not takes_body):
                problems.append(f"{method_id}: the request body was dropped")
            returns = spec.response is not None or spec.raw_result or m.empty_response
            if body.get("response") is not None and not returns:
                problems.append(f"{method_id}: the response was dropped")
        for child in (node.get("resources") or {}).values():
            walk(child)

    walk(doc)
    return problems


def _fieldless(api: Api, m: Method) -> bool:
    """The request message has no fields a caller sets (all read-only, or none)."""
    message = next((x for x in api.messages if x.name == m.request), None)
    return message is not None and all(f.read_only for f in message.fields)


# -- the wire, both ways -----------------------------------------------------------------


def _normal(method: str, url: str, body: bytes | str | None, headers: Mapping[str, str]) -> dict[str, Any]:
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


def _theirs(service: Any, path: tuple[str, ...], m: Method, kwargs: dict[str, Any]) -> dict[str, Any]:
    resource = service
    for part in path:
        resource = getattr(resource, part)()
    name = _gapi_name(m.name) + ("_media" if m.media_download else "")
    request = getattr(resource, name)(**kwargs)
    return _normal(request.method, request.uri, request.body, request.headers)


def _ours(client: Any, path: tuple[str, ...], m: Method, kwargs: dict[str, Any], sent: list[Any]) -> dict[str, Any]:
    resource = client
    for part in path:
        resource = getattr(resource, part)
    result = getattr(resource, m.py_name)(**kwargs)
    if m.pagination:
        next(iter(result.pages))
    request = sent[-1]
    return _normal(request.method, str(request.url), request.content, request.headers)


# -- one worker: generate, import, construct, compare ------------------------------------


def _import(out: Path, package: str) -> Any:
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(out))


def _forget(package: str) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    gc.collect()


def _check_document(path: Path, out: Path, every_method: bool | None = None) -> dict[str, Any]:
    import httpx
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build_from_document
    from googleapiclient.http import HttpMock

    package = _package(path)
    written = generate_standalone(path, out, package)
    digests = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(written)}
    doc = json.loads(path.read_text(encoding="utf-8"))
    api = load_api(doc, Options(source=path.name))
    module = _import(out, package)
    sent: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={}, headers={"content-type": "application/json"})

    if every_method is None:
        every_method = path.resolve().parent == PROJECT_SCHEMAS
    lost = dropped(doc, api, importlib.import_module(package + "._resources").SPECS)
    mismatches: list[str] = []
    uncomparable: list[str] = []
    calls = every_call(api) if every_method else sample_calls(api)
    try:
        async_client = module.AsyncClient("p", credentials=AnonymousCredentials())
        asyncio.run(async_client.close())
        http = httpx.Client(transport=httpx.MockTransport(reply))
        with module.Client("p", credentials=AnonymousCredentials(), http_client=http, max_retries=0) as client:
            service = build_from_document(doc, http=HttpMock())
            for ours_path, gapi_path, m in calls:
                ours_kwargs, gapi_kwargs, _ = full_arguments(m, api) if every_method else _arguments(m)
                try:
                    theirs = _theirs(service, gapi_path, m, gapi_kwargs)
                except Exception as exc:
                    uncomparable.append(f"{m.id}: google-api-python-client: {type(exc).__name__}: {exc}")
                    _ours(client, ours_path, m, ours_kwargs, sent)  # eerest still must
                    continue
                ours = _ours(client, ours_path, m, ours_kwargs, sent)
                if ours != theirs:
                    mismatches.append(f"{m.id}{' (media)' if m.media_download else ''}: eerest {ours} != {theirs}")
        http.close()
    finally:
        _forget(package)
    return {
        "files": digests,
        "methods": len(api.all_methods()),
        "compared": len(calls),
        "dropped": lost,
        "mismatches": mismatches,
        "uncomparable": uncomparable,
    }


def worker(paths: Sequence[Path], out: Path, report: Path) -> None:
    """Check each document; keep {stem: result} in ``report`` as JSON, rewritten after
    each document so that a long run can be watched (and its partial results read)."""
    results: dict[str, Any] = {}
    for path in paths:
        started = time.monotonic()
        try:
            results[path.stem] = _check_document(path, out)
        except Exception:  # every failure is reported, the run goes on
            results[path.stem] = {"error": traceback.format_exc(limit=6)}
        results[path.stem]["seconds"] = round(time.monotonic() - started, 2)
        partial = report.with_suffix(".partial")
        partial.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(report)


def _spawn(seed: str, stems: Sequence[str], workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    out = workdir / f"seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    report = workdir / f"report-seed{seed}.json"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    args = [sys.executable, "-m", "codegen.corpus", "--worker", str(out), str(report), *stems]
    return subprocess.Popen(args, env=env), report


def _summary(reports: Sequence[dict[str, Any]]) -> Iterator[str]:
    first = reports[0]
    for stem in sorted(first):
        results = [r.get(stem, {"error": "missing"}) for r in reports]
        for r in results:
            if "error" in r:
                yield f"{stem}: {r['error'].strip().splitlines()[-1]}"
                break
            if r.get("dropped"):
                yield from (f"{stem}: dropped: {x}" for x in r["dropped"])
                break
            if r["mismatches"]:
                yield from (f"{stem}: wire: {x}" for x in r["mismatches"])
                break
        else:
            if any(r["files"] != results[0]["files"] for r in results[1:]):
                differing = [f for f in results[0]["files"] if results[1]["files"].get(f) != results[0]["files"][f]]
                yield f"{stem}: output differs between PYTHONHASHSEEDs: {', '.join(differing)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=(), help="document stems, e.g. storage.v1 (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the generated packages and reports here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        out, report, *stems = args.worker
        worker(documents(stems), Path(out), Path(report))
        return 0
    paths = documents(args.only)
    if not paths:
        print("no documents selected", file=sys.stderr)
        return 2
    stems = [p.stem for p in sorted(paths, key=lambda p: (p.stat().st_size, p.name))]  # small first: watchable
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="eerest-corpus-") as tmp:
        workdir = args.keep or Path(tmp)
        spawned = [_spawn(seed, stems, workdir) for seed in SEEDS]
        codes = [process.wait() for process, _ in spawned]
        if any(codes):
            print(f"a worker failed (exit codes {codes})", file=sys.stderr)
            return 1
        reports = [json.loads(report.read_text(encoding="utf-8")) for _, report in spawned]
    problems = list(_summary(reports))
    elapsed = time.monotonic() - started
    methods = sum(r.get("methods", 0) for r in reports[0].values())
    passed = len(paths) - len({p.split(":")[0] for p in problems})
    print(
        f"{passed}/{len(paths)} documents passed ({methods} methods), generated, imported and compared on the wire "
        f"in 2 processes (PYTHONHASHSEED {' and '.join(SEEDS)}), byte-identical: {elapsed:.0f} s"
    )
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
