"""The corpus session's own machinery, and a small run of it (the full run is `nox -s corpus`)."""

from __future__ import annotations

import importlib.util
import re

import pytest

from codegen import corpus
from codegen.corpus_values import example


@pytest.mark.parametrize(
    "pattern",
    [
        "^projects/[^/]+/locations/[^/]+$",
        r"(\d){4}-(\d){2}-(\d){2}",
        r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}",
        r"(?:(?:[-a-z0-9]{1,63}\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?(?:[0-9]{1,19}|(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?))",
        "^v1/.*$",
        r"\w+@\S+",
    ],
)
def test_example_values_match_their_pattern(pattern: str) -> None:
    assert re.fullmatch(pattern, corpus._example(pattern))
    tricky = example(pattern, tricky=True)
    assert re.fullmatch(pattern, tricky), tricky


def test_tricky_examples_carry_unicode_and_reserved_characters() -> None:
    assert example("^projects/[^/]+$", tricky=True) == "projects/ü :@+&=$,;~!*'()%a"
    assert example("^v1/.*$", tricky=True).startswith("v1/ü :@")


def test_summary_counts_per_document_and_per_method() -> None:
    ok = {"wire": "ok", "async": "ok", "decode": "ok"}
    files = {"a/x.py": "1"}
    first = {
        "a.v1": {"files": files, "methods": {"a.get": ok, "a.put": {**ok, "wire": "ok (reserved expansion)"}}},
        "b.v1": {"files": files, "methods": {"b.get": {**ok, "decode": "fail: .x: 1 != 2"}}},
        "c.v1": {"stage": "generate", "error": "DiscoveryError: c.v1.json: schemas.A: ..."},
        "d.v1": {"files": files, "stage": "import", "error": "ImportError: x"},
        "e.v1": {
            "files": files,
            "methods": {"e.m": {**ok, "wire": "uncomparable: google-api-python-client: TypeError"}},
        },
    }
    second = {stem: {"files": {"a/x.py": "2"} if stem == "b.v1" else files} for stem in first}
    counts, problems, notes = corpus.summarize([first, second])
    assert counts == {
        "documents": 5,
        "generated": 4,
        "imported": 3,
        "identical": 3,
        "methods": 4,
        "wire": 3,
        "reserved": 1,
        "uncomparable": 1,
        "async": 4,
        "decode": 3,
    }
    assert problems == [
        "b.v1: output differs between PYTHONHASHSEEDs: a/x.py",
        "b.v1: b.get: decode: fail: .x: 1 != 2",
        "c.v1: generate: DiscoveryError: c.v1.json: schemas.A: ...",
        "d.v1: import: ImportError: x",
    ]
    assert notes == ["e.v1: e.m: wire: uncomparable: google-api-python-client: TypeError"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("googleapiclient") is None, reason="needs google-api-python-client")
def test_two_processes_agree_on_real_documents(capsys: pytest.CaptureFixture[str]) -> None:
    # top-level methods, a method and a resource of the same name, the dataWrapper feature
    assert corpus.main(["--only", "oauth2.v2", "identitytoolkit.v1", "translate.v2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 documents: 3 generated, 3 byte-identical in 2 processes")
    counts = re.search(
        r"(\d+) methods: (\d+) match google-api-python-client on the wire .*?(\d+) uncomparable\), (\d+) async calls ok, (\d+) typed results decode",
        out,
    )
    assert counts, out
    methods, wire, uncomparable, calls, decoded = map(int, counts.groups())
    assert methods > 40 and wire + uncomparable == methods and calls == decoded == methods
    # identitytoolkit's accounts method, hidden by its accounts resource in google-api-python-client,
    # is made and called as that client makes its methods
    assert uncomparable == 0 and "note:" not in out
