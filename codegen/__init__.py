"""The eerest generator: Google API Discovery documents in, a typed Python client out.

Pipeline: ``discovery.load_api`` turns a document into the intermediate representation
of ``ir``; ``models`` renders its messages through datamodel-code-generator; ``render``
renders enums, method stubs and clients through jinja2 templates; ``pipeline`` writes or
checks the result. Nothing here is imported by the installed SDK.
"""
