"""The corpus session's own machinery, and a small run of it (the full run is `nox -s corpus`)."""

from __future__ import annotations

import importlib.util
import re

import pytest

from codegen import corpus


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


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("googleapiclient") is None, reason="needs google-api-python-client")
def test_two_processes_agree_on_real_documents(capsys: pytest.CaptureFixture[str]) -> None:
    # top-level methods, a method and a resource of the same name, the dataWrapper feature
    assert corpus.main(["--only", "oauth2.v2", "identitytoolkit.v1", "translate.v2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3/3 documents passed")
    assert "byte-identical" in out
