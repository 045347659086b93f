"""Where the builder's inputs live in the checkout, and what each was taken from (the pins).

``schema/README.md`` tells the same story for people; keep the two in step.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "FIXTURE",
    "FIXTURE_COMMIT",
    "FIXTURE_PATH",
    "FIXTURE_REPOSITORY",
    "FIXTURE_SHA256",
    "GOOGLE_TYPES",
    "GAPIC_DISTRIBUTION",
    "GAPIC_VERSION",
    "GAPIC_WHEEL_SHA256",
    "JS_EXTRACT",
    "JS_FILE",
    "JS_INTEGRITY",
    "JS_PACKAGE",
    "JS_VERSION",
    "REFERENCE",
    "REFERENCE_SNAPSHOT",
    "ROOT",
    "SCHEMA",
    "SERVICE",
    "SOURCES",
    "SUPPLEMENT",
    "VERSIONS",
]

#: The repository root (this file is codegen/build_schema/sources.py).
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema"
SOURCES = SCHEMA / "sources"
VERSIONS = ("v1alpha", "v1beta", "v1")

#: Google's REST reference pages as Markdown, one folder per version (CC BY 4.0).
REFERENCE = SOURCES / "reference"
#: The day the pages were captured; the documents' ``revision`` (see schema/README.md).
REFERENCE_SNAPSHOT = "2025-08-01"

#: Types the pages link to but do not show (``Shared.Types/...``), written by this project
#: in the pages' own layout from FACTS.md and the sources below (schema/README.md).
SUPPLEMENT = SOURCES / "supplement"

#: Google's shared types (IAM, long-running operations, HttpBody, Empty) as Google's
#: discovery documents define them, taken from the documents google-api-python-client ships.
GOOGLE_TYPES = SOURCES / "google" / "shared_types.json"
GAPIC_DISTRIBUTION = "google-api-python-client"
GAPIC_VERSION = "2.202.0"
GAPIC_WHEEL_SHA256 = "aaa90064c9bb642ff1d065b22ca8958a2cb6e345909cefe70d0e5452fc50e08b"

#: The document-level fields every version shares (title, root URLs, standard parameters, scopes).
SERVICE = SOURCES / "service.json"

#: Cross-check source A: the API client generated into the official JavaScript package.
JS_PACKAGE = "@google/earthengine"
JS_VERSION = "1.6.1"  # the last release before the pages' snapshot (2025-07-29)
JS_INTEGRITY = (
    "sha512-IBfM9RY6kO0PTjLPQF7NMExLPiqKBgzAyqzroPVO6nBjKWImxkMfFSX0Rzxx1aVgRgtRXWFp6FgAZqMNHBKLxQ=="
)
JS_FILE = "package/build/ee_api_js_debug.js"
JS_EXTRACT = SOURCES / "ee-api-js" / "ee_api_client.json"

#: Cross-check source B: the discovery document earthengine-api tests with (v1alpha, 2020;
#: request and response types stripped). Apache-2.0.
FIXTURE_REPOSITORY = "google/earthengine-api"
FIXTURE_PATH = "python/ee/tests/cloud_api_discovery_document.json"
FIXTURE_COMMIT = "06b67a43bf535c606e2fc614835cedda838c1cc2"  # v0.1.214, the file's last change
FIXTURE_SHA256 = "4a739e2fc3a77b9ed875e1daed7c4664cfa9b433c27834b298173bf81a3f8640"
FIXTURE = SOURCES / "earthengine-api" / "cloud_api_discovery_document.json"
