"""The HTML of a term and of a node's property table: `term(t)` and `node_table(node)`, globals
of every template (registered in endpoint/pages/entities.py).

An entity page prints 100-300 terms; as Jinja macros each one cost a macro call (~10 µs of
argument binding and frame set-up) and a handful of escapes, a sixth of an uncached page. Here a
term's HTML is a function of the (frozen, hashable) Term alone, kept in an LRU, and a property
table is string joins. They replaced the macros of the same names, byte for byte.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from endpoint.pages.terms import Term


@lru_cache(maxsize=65_536)
def term(t: Term) -> Markup:
    """A term: our IRIs link to this host, others out; literals show language or datatype."""
    if t.kind == "iri":
        if t.href:
            external = "" if t.ours else ' class="external"'
            return Markup(f'<a href="{escape(t.href)}" title="{escape(t.value)}"{external}>'
                          f"{escape(t.text)}</a>")
        return Markup(f'<span title="{escape(t.value)}">{escape(t.text)}</span>')
    if t.kind == "bnode":
        return Markup('<span class="bnode">[ ]</span>')
    out = f'<span class="literal">{escape(t.value)}</span>'
    if t.language:
        out += f' <span class="lang">{escape(t.language)}</span>'
    if t.datatype:
        out += f' <span class="datatype">{escape(t.datatype)}</span>'
    return Markup(out)


def node_table(node) -> Markup:
    """A subject's properties, one row each, blank nodes nested in place."""
    parts = ['<table class="props">']
    for prop, values in node.properties:
        parts.append(f'\n  <tr>\n    <th scope="row">{term(prop)}</th>\n'
                     '    <td><ul class="values">')
        for v in values:
            inner = node_table(v) if hasattr(v, "properties") else term(v)
            parts.append(f"\n      <li>{inner}</li>")
        parts.append("\n    </ul></td>\n  </tr>")
    parts.append("\n</table>")
    return Markup("".join(parts))
