"""Query text for a server that has none of our parser options (the remote backend).

The embedded store takes prefixes, a base IRI, bound variables and the dataset as options of
`Store.query`; a remote SPARQL 1.1 endpoint only gets the text. So the text carries them:
PREFIX/BASE lines, a VALUES block first in the top-level WHERE group (SEP-0007 substitution as
standard SPARQL), and FROM / FROM NAMED clauses. Every place text goes is an offset the parser
reported (`graph.sparql.reader`), and terms are written by pyoxigraph's N-Triples serialization
(escaped), never by formatting user input into the query.
"""

from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode

from graph.namespaces import prefix_lines
from graph.sparql.reader import read


def prepare(
    query: str,
    *,
    base_iri: str | None = None,
    prefixes: dict[str, str] | None = None,
    substitutions: dict | None = None,
) -> str:
    """The query with its prolog (every prefix it does not declare) and bound VALUES."""
    info = read(query, base_iri=base_iri, prefixes=prefixes)
    prolog = f"BASE <{base_iri}>\n" if base_iri else ""
    prolog += prefix_lines(
        {p: ns for p, ns in (prefixes or {}).items() if p not in info.declared_prefixes})
    if substitutions:
        query = bind_values(query, substitutions, base_iri=base_iri, prefixes=prefixes)
    return prolog + query


def bind_values(
    query: str,
    substitutions: dict,
    *,
    base_iri: str | None = None,
    prefixes: dict[str, str] | None = None,
) -> str:
    """Bind variables as pyoxigraph's `substitutions` do (SEP-0007: the variable is replaced by
    the value everywhere), in standard SPARQL: the term replaces the variable inside every group
    (subqueries included: `(<term> AS ?v)` in a subquery's projection, `(<term>)` in its
    GROUP BY / ORDER BY), and `VALUES (?a ?b) { (<x> "y") }` first in the top-level WHERE group
    gives the outer projection its value.

    Only IRIs and literals can be sent: a blank node label means nothing to another server.
    Without a WHERE group to put it in (DESCRIBE <x>, CONSTRUCT WHERE), the block trails the
    query, which SPARQL 1.1 joins with the whole result.
    """
    terms: dict[str, str] = {}
    for var, term in substitutions.items():
        if isinstance(term, BlankNode) or not isinstance(term, NamedNode | Literal):
            raise TypeError(f"cannot send {term!r} to a remote endpoint: bind an IRI or a literal")
        terms[str(var).lstrip("?$")] = str(term)  # N-Triples form: escaped, never raw user text
    info = read(query, base_iri=base_iri, prefixes=prefixes)
    edits = [
        (use.start, use.end, _written(terms[use.name], use.role, query[use.start : use.end]))
        for use in info.variables
        if use.name in terms
    ]
    names = " ".join(f"?{name}" for name in terms)
    block = f"VALUES ({names}) {{ ({' '.join(terms.values())}) }}"
    if info.group_at is None or info.short_construct:
        return f"{_apply(query, edits)}\n{block}\n"
    at = info.group_at + 1
    return _apply(query, [*edits, (at, at, f" {block} ")])


def with_dataset(query: str, defaults: list[str], named: list[str]) -> str | None:
    """The query with FROM / FROM NAMED clauses before its WHERE clause.

    None when they cannot be placed (no WHERE clause), and the query unchanged when it names its
    own dataset (which wins, as it does in the embedded store).
    """
    info = read(query)
    if info.has_dataset_clause:
        return query
    if info.where_at is None:
        return None
    clauses = "".join(f"FROM <{g}>\n" for g in defaults)
    clauses += "".join(f"FROM NAMED <{g}>\n" for g in named)
    at = info.where_at
    return f"{query[:at]}\n{clauses}{query[at:]}"


def _written(term: str, role: str, variable: str) -> str:
    if role == "as":
        return f"({term} AS {variable})"
    if role == "paren":
        return f"({term})"
    return term


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace [start, end) spans (sorted, never overlapping) by their new text in one pass."""
    out, last = [], 0
    for start, end, new in sorted(edits):
        out.append(text[last:start] + new)
        last = end
    out.append(text[last:])
    return "".join(out)
