"""The Khojaly knowledge graph pipeline: parse, validate, load, export, link (layout: docs/code.md).

No Flask imports live in this package; the endpoint builds on it, never the reverse.
"""

__version__ = "0.1.0"
