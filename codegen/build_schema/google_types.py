"""Google's shared API types, exactly as Google's discovery documents define them.

Earth Engine's methods use types that are not Earth Engine's own: ``google.longrunning``
(``Operation``, ``ListOperationsResponse``, ``CancelOperationRequest``), ``google.rpc.Status``,
``google.iam.v1`` (``Policy``, ``Binding``, ``Expr``, ``AuditConfig``, ``AuditLogConfig`` and
the IAM requests and responses), ``google.protobuf.Empty`` and ``google.api.HttpBody``. The
reference pages link to them (``Shared.Types/...``) without showing them. Every Google API
that uses them carries the same definitions in its discovery document; this module copies
them from two documents that google-api-python-client ships (``DOCUMENTS``: the definitions
most of its documents agree on) into ``schema/sources/google/shared_types.json``::

    pip download --no-deps google-api-python-client==2.202.0
    python -m codegen.build_schema.google_types google_api_python_client-2.202.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import sources

__all__ = ["DOCUMENTS", "load", "main"]

#: document inside googleapiclient/discovery_cache/documents/ -> the schemas taken from it.
DOCUMENTS: dict[str, tuple[str, ...]] = {
    "accesscontextmanager.v1.json": (
        "AuditConfig",
        "AuditLogConfig",
        "Binding",
        "CancelOperationRequest",
        "Empty",
        "Expr",
        "GetIamPolicyRequest",
        "GetPolicyOptions",
        "ListOperationsResponse",
        "Operation",
        "Policy",
        "SetIamPolicyRequest",
        "Status",
        "TestIamPermissionsRequest",
        "TestIamPermissionsResponse",
    ),
    "adsense.v2.json": ("HttpBody",),
}
_PREFIX = "googleapiclient/discovery_cache/documents/"


def load(path: Path = sources.GOOGLE_TYPES) -> dict[str, dict[str, Any]]:
    """The vendored schemas, by name."""
    data = json.loads(path.read_text(encoding="utf-8"))
    schemas: dict[str, dict[str, Any]] = data["schemas"]
    return schemas


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.build_schema.google_types", description=__doc__)
    parser.add_argument("wheel", type=Path, help=f"{sources.GAPIC_DISTRIBUTION}=={sources.GAPIC_VERSION} wheel")
    parser.add_argument("--out", type=Path, default=sources.GOOGLE_TYPES)
    args = parser.parse_args(argv)
    digest = hashlib.sha256(args.wheel.read_bytes()).hexdigest()
    if digest != sources.GAPIC_WHEEL_SHA256:
        print(f"error: {args.wheel} has sha256 {digest}, the pin is {sources.GAPIC_WHEEL_SHA256}", file=sys.stderr)
        return 2
    schemas: dict[str, Any] = {}
    taken: dict[str, Any] = {}
    with zipfile.ZipFile(args.wheel) as wheel:
        for document, names in DOCUMENTS.items():
            doc = json.loads(wheel.read(_PREFIX + document))
            taken[document] = {"revision": doc["revision"], "schemas": list(names)}
            for name in names:
                schemas[name] = doc["schemas"][name]
    out = {
        "source": {
            "distribution": sources.GAPIC_DISTRIBUTION,
            "version": sources.GAPIC_VERSION,
            "wheelSha256": sources.GAPIC_WHEEL_SHA256,
            "documents": taken,
            "extractedBy": "python -m codegen.build_schema.google_types",
        },
        "schemas": schemas,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(schemas)} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
