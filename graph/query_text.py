"""Query text for a server that has none of our parser options (issue 7, graph/remote.py).

The embedded store takes prefixes, a base IRI, bound variables and the dataset as options of
`Store.query`; a remote SPARQL 1.1 endpoint only gets the text. So the text carries them:
PREFIX/BASE lines, a VALUES block first in the top-level WHERE group (SEP-0007 substitution as
standard SPARQL), and FROM / FROM NAMED clauses. Terms are written by pyoxigraph's N-Triples
serialization (escaped), never by formatting user input into the query.

`scan` is a small lexer, not a parser: it skips comments, strings and IRIs and finds the
top-level WHERE group. The server's parser still has the last word on the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode

_PREFIX_DECL = re.compile(r"(?im)^\s*PREFIX\s+([\w.-]*):")
_IRI = re.compile(r"<[^<>\"{}|^`\\\s]*>")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_VAR = re.compile(r"[?$]\w*")
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


@dataclass(frozen=True)
class Scan:
    form: str | None = None
    group: int | None = None  # index of the `{` opening the top-level WHERE group
    where: int | None = None  # index of the WHERE keyword before it, when written
    has_dataset: bool = False  # the query names its own FROM / FROM NAMED
    short_construct: bool = False  # CONSTRUCT WHERE { }: the group is also the template


def prepare(
    query: str,
    *,
    base_iri: str | None = None,
    prefixes: dict[str, str] | None = None,
    substitutions: dict | None = None,
) -> str:
    """The query with its prolog (every prefix it does not declare) and bound VALUES."""
    declared = {m.lower() for m in _PREFIX_DECL.findall(query)}
    prolog = f"BASE <{base_iri}>\n" if base_iri else ""
    prolog += "".join(
        f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or {}).items() if p.lower() not in declared
    )
    if substitutions:
        query = bind_values(query, substitutions)
    return prolog + query


def bind_values(query: str, substitutions: dict) -> str:
    """Bind variables as pyoxigraph's `substitutions` do (SEP-0007: the variable is replaced by
    the value everywhere), in standard SPARQL: the term replaces the variable inside every group
    (subqueries included, see `replace_in_groups`), and `VALUES (?a ?b) { (<x> "y") }` first in
    the top-level WHERE group gives the projected variable its value.

    Only IRIs and literals can be sent: a blank node label means nothing to another server.
    Without a WHERE group to put it in (DESCRIBE <x>, CONSTRUCT WHERE), the block trails the
    query, which SPARQL 1.1 joins with the whole result.
    """
    names, values = [], []
    for var, term in substitutions.items():
        if isinstance(term, BlankNode) or not isinstance(term, NamedNode | Literal):
            raise TypeError(f"cannot send {term!r} to a remote endpoint: bind an IRI or a literal")
        names.append(str(var))
        values.append(str(term))  # pyoxigraph's N-Triples form: escaped, never raw user text
    block = f"VALUES ({' '.join(names)}) {{ ({' '.join(values)}) }}"
    query = replace_in_groups(query, dict(zip([n[1:] for n in names], values, strict=True)))
    found = scan(query)
    if found.group is None or found.short_construct:
        return f"{query}\n{block}\n"
    at = found.group + 1
    return f"{query[:at]} {block} {query[at:]}"


def replace_in_groups(query: str, terms: dict[str, str]) -> str:
    """Write each bound variable's term in its place inside the query's groups.

    A variable at the top level (the outer projection, GROUP BY, ORDER BY) stays: the VALUES
    block binds it there. In a subquery's projection it becomes `(<term> AS ?v)`, in a subquery's
    GROUP BY / ORDER BY `(<term>)`, anywhere else in a group the bare term.
    """
    out: list[str] = []
    depth = paren = 0
    i, n, last = 0, len(query), 0
    projecting_at: int | None = None  # brace depth of the SELECT whose projection we are in
    modifier = False  # inside GROUP BY / ORDER BY
    while i < n:
        c = query[i]
        if c == "#":
            j = query.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'":
            i = _skip_string(query, i)
            continue
        m = _IRI.match(query, i) if c == "<" else _VAR.match(query, i) if c in "?$" else None
        if m and c in "?$" and query[i + 1 : m.end()] in terms and depth > 0:
            term = terms[query[i + 1 : m.end()]]
            if projecting_at == depth and paren == 0:
                text = f"({term} AS {m.group(0)})"
            elif modifier:
                text = f"({term})"
            else:
                text = term
            out.append(query[last:i] + text)
            last = i = m.end()
            continue
        if m:
            i = m.end()
            continue
        if c.isalpha():
            m = _WORD.match(query, i)
            word = m.group(0).upper()
            if word == "SELECT":
                projecting_at, modifier = depth, False
            elif word in ("WHERE", "FROM") and projecting_at == depth and paren == 0:
                projecting_at = None
            elif word in ("GROUP", "ORDER"):
                modifier = True
            elif word in ("HAVING", "LIMIT", "OFFSET", "VALUES"):
                modifier = False
            i = m.end()
            continue
        if c == "(":
            paren += 1
        elif c == ")":
            paren -= 1
        elif c in "{}":
            if c == "{" and projecting_at == depth and paren == 0:
                projecting_at = None
            depth += 1 if c == "{" else -1
            modifier = False
        i += 1
    out.append(query[last:])
    return "".join(out)


def with_dataset(query: str, defaults: list[str], named: list[str]) -> str | None:
    """The query with FROM / FROM NAMED clauses before its WHERE group.

    None when they cannot be placed (no WHERE group), and the query unchanged when it names its
    own dataset (which wins, as it does in the embedded store).
    """
    found = scan(query)
    if found.has_dataset:
        return query
    if found.group is None:
        return None
    clauses = "".join(f"FROM <{g}>\n" for g in defaults)
    clauses += "".join(f"FROM NAMED <{g}>\n" for g in named)
    at = found.where if found.where is not None else found.group
    return f"{query[:at]}\n{clauses}{query[at:]}"


def scan(query: str) -> Scan:
    """Find the query form, the top-level WHERE group and any dataset clause."""
    form, depth, i, n = None, 0, 0, len(query)
    last_word, last_at, has_dataset = "", None, False
    while i < n:
        c = query[i]
        if c == "#":
            i = query.find("\n", i)
            i = n if i < 0 else i
            continue
        if c in "\"'":
            i = _skip_string(query, i)
            continue
        m = _IRI.match(query, i) if c == "<" else _VAR.match(query, i) if c in "?$" else None
        if m:
            i, last_word = m.end(), ""
            continue
        if c.isalpha():
            m = _WORD.match(query, i)
            word = m.group(0).upper()
            if depth == 0 and form is None and word in FORMS:
                form = word
            if depth == 0 and form is not None and word == "FROM":
                has_dataset = True
            last_word, last_at, i = word, i, m.end()
            continue
        if c == "{" and depth == 0 and form is not None:
            after_where = last_word == "WHERE"
            if after_where or form != "CONSTRUCT":
                short = form == "CONSTRUCT" and _construct_short(query, last_at)
                where = last_at if after_where else None
                return Scan(form, i, where, has_dataset, short)
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if not c.isspace():
            last_word = ""
        i += 1
    return Scan(form, None, None, has_dataset)


def _construct_short(query: str, where_at: int | None) -> bool:
    """True when the WHERE follows CONSTRUCT directly (only dataset clauses between)."""
    if where_at is None:
        return False
    head = re.sub(r"#[^\n]*", "", query[:where_at])
    return re.search(r"(?is)CONSTRUCT\s+(FROM\s+(NAMED\s+)?<[^>]*>\s*)*$", head) is not None


def _skip_string(query: str, i: int) -> int:
    quote = query[i]
    if query.startswith(quote * 3, i):
        end = query.find(quote * 3, i + 3)
        return len(query) if end < 0 else end + 3
    j = i + 1
    while j < len(query) and query[j] != quote:
        j += 2 if query[j] == "\\" else 1
    return j + 1
