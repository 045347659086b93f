"""The generator over every Discovery document google-api-python-client ships.

``python -m codegen.corpus --all`` (``nox -s corpus``) runs two worker processes with
different ``PYTHONHASHSEED``s. Both generate every document into their own directory (the
parent then compares the outputs byte for byte); the first also imports each package and
calls EVERY method, sync and async, with hostile but valid values (unicode, slashes and
reserved characters in path and query values, repeated parameters, enums, int64s past
2**53, booleans, bodies built from the request schema; see ``codegen.corpus_values``),
comparing what goes on the wire with google-api-python-client's (method, URL, query, JSON
body, ``x-goog-api-version``), and checks that the typed result decodes a response built
from the response schema (``codegen.corpus_calls``). A method whose ``request`` or
``response`` the generated package lost fails its document. The report counts, per
document and per method: generated, imported, wire match, async, results decode.

Without ``--all`` the run is a sample: the project's own documents (``schema/``) and every
``SAMPLE_STEP``-th shipped one.

    python -m codegen.corpus                      # the sample (a few minutes)
    python -m codegen.corpus --all                # every document
    python -m codegen.corpus --only storage.v1 drive.v3 --keep out/corpus
"""

from __future__ import annotations

import argparse
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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .corpus_calls import normal
from .corpus_values import example, gapi_name, gapi_param
from .discovery import BODY_ARGUMENT, Options, load_api
from .ir import Api, Method, Param, TypeRef
from .pipeline import generate_standalone

__all__ = ["body_value", "documents", "dropped", "every_call", "full_arguments", "main", "summarize"]

SEEDS = ("1", "2")


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
    """A short string that ``re.fullmatch(pattern, ...)`` accepts (see ``corpus_values.example``)."""
    return example(pattern)


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


_gapi_name = gapi_name


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
        theirs[gapi_param(p.name)] = value
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


_normal = normal


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


def _check_document(path: Path, out: Path, call: bool = True) -> dict[str, Any]:
    """Generate (and, with ``call``, import and call every method of) one document: its
    files' digests, and per method ``{"wire", "async", "decode"}`` (see ``Harness.check``);
    a failing stage is ``{"error": ..., "stage": ...}``."""
    from .corpus_calls import Harness

    package = _package(path)
    result: dict[str, Any] = {"stage": "generate"}
    try:
        written = generate_standalone(path, out, package)
        result["files"] = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(written)}
        if not call:
            return result
        result["stage"] = "import"
        doc = json.loads(path.read_text(encoding="utf-8"))
        api = load_api(doc, Options(source=path.name))
        module = _import(out, package)
        resources = importlib.import_module(package + "._resources")
        result["stage"] = "construct"
        harness = Harness(module, resources, api, doc)
    except Exception as exc:  # every failure is reported, the run goes on
        _forget(package)
        result["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
        result["traceback"] = traceback.format_exc(limit=8)
        return result
    result["stage"] = "call"
    result["dropped"] = dropped(doc, api, resources.SPECS)
    methods: dict[str, dict[str, str]] = {}
    try:
        for ours_path, gapi_path, m in every_call(api):
            key = m.id + (" (media)" if m.media_download else "")
            try:
                methods[key] = harness.check(ours_path, gapi_path, m)
            except Exception as exc:  # a bug of the harness itself: reported per method
                methods[key] = {"wire": f"harness: {type(exc).__name__}: {exc}"[:300], "async": "", "decode": ""}
    finally:
        harness.close()
        _forget(package)
    result["methods"] = methods
    result.pop("stage")
    return result


def worker(paths: Sequence[Path], out: Path, report: Path, call: bool = True) -> None:
    """Check each document; keep {stem: result} in ``report`` as JSON, rewritten after
    each document so that a long run can be watched (and its partial results read)."""
    results: dict[str, Any] = {}
    for path in paths:
        started = time.monotonic()
        results[path.stem] = _check_document(path, out, call)
        results[path.stem]["seconds"] = round(time.monotonic() - started, 2)
        partial = report.with_suffix(".partial")
        partial.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
        partial.replace(report)


def _spawn(
    seed: str, stems: Sequence[str], workdir: Path, call: bool, shard: str = ""
) -> tuple[subprocess.Popen[bytes], Path]:
    out = workdir / f"seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    report = workdir / f"report-seed{seed}{shard}.json"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    mode = "--worker" if call else "--generate-worker"
    args = [sys.executable, "-m", "codegen.corpus", mode, str(out), str(report), *stems]
    return subprocess.Popen(args, env=env), report


def read_reports(workdir: Path) -> list[dict[str, Any]]:
    """The calling workers' reports (``report-seed1*.json``, merged, a later one winning) and
    each generating seed's (``report-seed2*.json``, the same), as runs left them in
    ``workdir`` (``--keep``)."""
    calling = _merged(workdir, SEEDS[0])
    return [calling, *(_merged(workdir, seed) for seed in SEEDS[1:])]


def _merged(workdir: Path, seed: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for report in sorted(workdir.glob(f"report-seed{seed}*.json"), key=lambda p: (p.stat().st_mtime, p.name)):
        merged.update(json.loads(report.read_text(encoding="utf-8")))
    return merged


def _ok(outcome: str) -> bool:
    return outcome.startswith("ok") or outcome == "n/a"


def summarize(reports: Sequence[dict[str, Any]]) -> tuple[dict[str, int], list[str], list[str]]:
    """Counts (documents generated/imported/identical; methods wire/async/decode), one line
    per problem and one per note (a method google-api-python-client cannot call, so that
    only eerest's side ran), from the calling worker's report and the generating ones'."""
    first = reports[0]
    counts = dict.fromkeys(
        (
            "documents",
            "generated",
            "imported",
            "identical",
            "methods",
            "wire",
            "reserved",
            "uncomparable",
            "async",
            "decode",
        ),
        0,
    )
    problems: list[str] = []
    notes: list[str] = []
    for stem in sorted(first):
        r = first[stem]
        counts["documents"] += 1
        others = [rep.get(stem, {"error": "missing", "stage": "generate"}) for rep in reports[1:]]
        if r.get("stage") == "generate" or any("error" in o for o in others):
            error = r.get("error") or next(o["error"] for o in others if "error" in o)
            problems.append(f"{stem}: generate: {error}")
            continue
        counts["generated"] += 1
        if any(o.get("files") != r.get("files") for o in others):
            differing = sorted(f for o in others for f in r["files"] if o.get("files", {}).get(f) != r["files"][f])
            problems.append(f"{stem}: output differs between PYTHONHASHSEEDs: {', '.join(differing)}")
        else:
            counts["identical"] += 1
        if "error" in r:
            problems.append(f"{stem}: {r['stage']}: {r['error']}")
            continue
        counts["imported"] += 1
        problems.extend(f"{stem}: dropped: {x}" for x in r.get("dropped", ()))
        for method, outcome in sorted(r.get("methods", {}).items()):
            counts["methods"] += 1
            wire = outcome.get("wire", "")
            if wire.startswith("uncomparable"):  # google-api-python-client cannot call it: eerest did
                counts["uncomparable"] += 1
                notes.append(f"{stem}: {method}: wire: {wire}")
            elif _ok(wire):
                counts["wire"] += 1
                counts["reserved"] += wire != "ok"
            else:
                problems.append(f"{stem}: {method}: wire: {wire}")
            for key in ("async", "decode"):
                if _ok(outcome.get(key, "")):
                    counts[key] += 1
                else:
                    problems.append(f"{stem}: {method}: {key}: {outcome.get(key)}")
    return counts, problems, notes


#: Without ``--all``, every ``SAMPLE_STEP``-th shipped document (by name) and the project's own.
SAMPLE_STEP = 40


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every document (default: a sample)")
    parser.add_argument("--only", nargs="*", default=(), help="document stems, e.g. storage.v1")
    parser.add_argument("--keep", type=Path, help="keep the generated packages and reports here")
    parser.add_argument("--show", type=int, default=60, help="problems to print (default 60; all in the report)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="processes calling methods (default 1), beside the one generating"
    )
    parser.add_argument("--report", type=Path, help="only summarise the reports a run kept in this directory (--keep)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--generate-worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker or args.generate_worker:
        out, report, *stems = args.worker or args.generate_worker
        worker(documents(stems), Path(out), Path(report), call=bool(args.worker))
        return 0
    started = time.monotonic()
    if args.report:
        return _print_summary(read_reports(args.report), started, args.show)
    paths = documents(args.only)
    if not args.all and not args.only:
        shipped = [p for p in paths if p.resolve().parent != PROJECT_SCHEMAS]
        paths = shipped[::SAMPLE_STEP] + [p for p in paths if p.resolve().parent == PROJECT_SCHEMAS]
    if not paths:
        print("no documents selected", file=sys.stderr)
        return 2
    stems = [p.stem for p in sorted(paths, key=lambda p: (p.stat().st_size, p.name))]  # small first: watchable
    jobs = max(1, args.jobs)
    with tempfile.TemporaryDirectory(prefix="eerest-corpus-") as tmp:
        workdir = args.keep or Path(tmp)
        spawned = [
            _spawn(SEEDS[0], stems[i::jobs], workdir, call=True, shard=f"-{i}" if jobs > 1 else "") for i in range(jobs)
        ]
        spawned += [_spawn(seed, stems, workdir, call=False) for seed in SEEDS[1:]]
        codes = [process.wait() for process, _ in spawned]
        if any(codes):
            print(f"a worker failed (exit codes {codes})", file=sys.stderr)
            return 1
        reports = read_reports(workdir)
    return _print_summary(reports, started, args.show)


def _print_summary(reports: Sequence[dict[str, Any]], started: float, show: int) -> int:
    counts, problems, notes = summarize(reports)
    elapsed = time.monotonic() - started
    c = counts
    print(
        f"{c['documents']} documents: {c['generated']} generated, {c['identical']} byte-identical in 2 processes "
        f"(PYTHONHASHSEED {' and '.join(SEEDS)}), {c['imported']} imported and called; {c['methods']} methods: "
        f"{c['wire']} match google-api-python-client on the wire ({c['reserved']} of them up to "
        f"fullyEncodeReservedExpansion; {c['uncomparable']} uncomparable), {c['async']} async calls ok, "
        f"{c['decode']} typed results decode the response; {elapsed:.0f} s"
    )
    for problem in problems[:show]:
        print("  " + problem)
    if len(problems) > show:
        print(f"  ... and {len(problems) - show} more (--keep DIR keeps the reports)")
    for note in notes[:show]:
        print("  note: " + note)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
