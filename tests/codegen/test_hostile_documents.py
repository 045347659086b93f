"""Hostile discovery documents (tests/codegen/hostile/, hand-written, not tuned for): each
either generates code whose every method works on the wire, sync and async, exactly as
google-api-python-client's, both sending to a loopback HTTP server, with typed results that
decode the responses; or is refused at generation with one line naming the place."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen import cli, corpus
from codegen.discovery import load_api

HOSTILE = Path(__file__).parent / "hostile"

#: The refused documents and what the one line says (after ``<file>: ``).
REFUSED = {
    "refuse_alias_cycle": "schemas.A: the $ref cycle A -> B -> A passes through no object schema",
    "refuse_array_without_items": "schemas.R.properties.a: an array without 'items'",
    "refuse_bad_location": "resources.x.methods.get.parameters.h: location 'header'",
    "refuse_bad_regex": "resources.x.methods.get.parameters.name.pattern: '^projects/([^/]+$' is not a valid regular",
    "refuse_path_as_query": "resources.x.methods.get.parameters.name: the path has {name}, but the parameter's location "
    "is 'query'",
    "refuse_self_alias": "schemas.A: the $ref cycle A -> A",
    "refuse_undeclared_placeholder": "resources.x.methods.get.path: the placeholder {other} is not a declared parameter",
    "refuse_unknown_ref": "schemas.R.properties.a: $ref to unknown schema 'Nowhere'",
    "refuse_unused_path_param": "resources.x.methods.get.parameters.extra: a path parameter that the path",
}
WORKING = sorted(p.stem for p in HOSTILE.glob("*.json") if p.stem not in REFUSED)
#: Methods google-api-python-client cannot call (eerest's side still runs, sync and async):
#: query parameters named ``self``, ``body`` and ``media_body`` (its methods' own arguments).
UNCOMPARABLE = {"names.class.selfish": "got multiple values for argument 'self'"}


def test_every_hostile_document_has_an_outcome() -> None:
    stems = {p.stem for p in HOSTILE.glob("*.json")}
    assert set(REFUSED) <= stems
    assert all(not s.startswith("refuse_") for s in WORKING)
    assert len(WORKING) >= 5


@pytest.mark.parametrize("stem", sorted(REFUSED))
def test_refused_at_generation_in_one_line(stem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = HOSTILE / f"{stem}.json"
    code = cli.main(["generate", "--schema", str(schema), "--out", str(tmp_path), "--package", "p"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"python -m codegen generate: error: {stem}.json: {REFUSED[stem]}"), err
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.fixture
def server() -> Iterator[Any]:
    from scripted_server import ScriptedServer

    with ScriptedServer() as s:
        yield s


@pytest.mark.parametrize("stem", WORKING)
def test_every_method_works_on_the_wire(stem: str, tmp_path: Path, server: Any) -> None:
    pytest.importorskip("googleapiclient")
    from codegen.corpus_calls import Harness
    from codegen.pipeline import generate_standalone

    schema = HOSTILE / f"{stem}.json"
    package = f"hostile_{stem}"
    generate_standalone(schema, tmp_path, package)
    doc = json.loads(schema.read_text(encoding="utf-8"))
    api = load_api(doc)
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(package)
        resources = importlib.import_module(package + "._resources")
    finally:
        sys.path.remove(str(tmp_path))
    harness = Harness(module, resources, api, doc, server=server)
    outcomes = {}
    try:
        assert corpus.dropped(doc, api, resources.SPECS) == []
        for ours_path, gapi_path, m in corpus.every_call(api):
            outcomes[m.id + (" (media)" if m.media_download else "")] = harness.check(ours_path, gapi_path, m)
    finally:
        harness.close()
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
    for method, reason in UNCOMPARABLE.items():
        if method in outcomes and reason in outcomes[method]["wire"]:
            outcomes[method]["wire"] = "ok (uncomparable)"
    failed = {k: v for k, v in outcomes.items() if not all(x.startswith("ok") or x == "n/a" for x in v.values())}
    assert not failed, json.dumps(failed, indent=1, ensure_ascii=False)
    assert len(outcomes) == len(corpus.every_call(api)) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--package", "my-api"], "--package 'my-api': not a dotted Python name"),
        (["--package", "ok", "--schema", "missing.json"], "No such file or directory"),
        (["--package", "ok", "--schema", "broken.json"], "broken.json: not JSON"),
    ],
)
def test_cli_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    argv = ["generate", "--out", str(tmp_path / "out"), "--schema", str(HOSTILE / "names.json"), *args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
