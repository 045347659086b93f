"""The hand-written runtime the generated clients are built on. Private: import from
``eerest`` or a version module (``eerest.v1``) instead."""
