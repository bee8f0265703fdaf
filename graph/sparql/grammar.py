"""rdflib's SPARQL 1.1 grammar, in a private copy that also reports where things are.

`graph.sparql.reader` needs positions from the parser (where the top-level WHERE group opens,
where each variable is written) to rewrite a query without a hand-written lexer. pyparsing gives
a parse action the location of what it matched, so the copy gets a few actions that record it.

Why a copy: rdflib builds its grammar as module-level objects, shared by rdflib's own query
engine and by pySHACL. Adding actions there would change what they parse into, so the module is
executed a second time (the ordinary importlib recipe) and only that copy is changed. The copy
also renames its SERVICE rule: rdflib's `Comp` re-searches the whole query text from its start
for every SERVICE it builds (to keep the pattern's source text), which makes a query with many
SERVICE clauses cost quadratic time; nothing here needs that text.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import rdflib.plugins.sparql.parser as _rdflib_parser
from pyparsing import (
    CaselessKeyword,
    Forward,
    Optional,
    ParserElement,
    ParseResults,
    Regex,
    Suppress,
    TokenConverter,
    ZeroOrMore,
)
from rdflib.compat import decodeUnicodeEscape
from rdflib.plugins.sparql.parserutils import ParamList, ParamValue
from rdflib.term import Literal, URIRef, Variable

SERVICE = "Service"  # the name of the SERVICE rule in the copy (rdflib's: ServiceGraphPattern)


class LocatedVariable(Variable):
    """A SPARQL variable with the offsets of its text (`?name`) in the parsed string."""

    __slots__ = ("start", "end")

    def __new__(cls, name: str, start: int, end: int) -> LocatedVariable:
        var = super().__new__(cls, name)
        var.start, var.end = start, end
        return var


def _load_copy() -> ModuleType:
    name = _rdflib_parser.__name__ + "_located"  # same package, so its relative imports work
    spec = importlib.util.spec_from_file_location(name, _rdflib_parser.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ParseBudgetExceeded(Exception):
    """The parse ran past the deadline `budget` set; raised from inside it, at `loc`."""


_budget = threading.local()


@contextmanager
def budget(seconds: float | None) -> Iterator[None]:
    """Give the parses of this thread a deadline: rdflib's parser costs about 0.1-0.3 ms per
    token, so a hostile text at the length cap would hold a CPU (and the GIL) for seconds.

    The deadline is in this thread's CPU time, not wall time: what is bounded is the work a
    text costs, so a parse is not refused because the machine was busy or another thread held
    the GIL meanwhile."""
    _budget.deadline = None if seconds is None else time.thread_time() + seconds
    try:
        yield
    finally:
        _budget.deadline = None


def _check_budget(text: str, loc: int, toks: ParseResults) -> None:
    """Called on the terminals every text is made of (variables, IRIs, names, literals)."""
    deadline = getattr(_budget, "deadline", None)
    if deadline is not None and time.thread_time() > deadline:
        raise ParseBudgetExceeded(loc)


def _locate_var(text: str, loc: int, toks: ParseResults) -> LocatedVariable:
    _check_budget(text, loc, toks)
    name = toks[0]
    return LocatedVariable(name, loc, loc + 1 + len(name))


def _unchanged(text: str, loc: int, toks: ParseResults) -> None:
    return None


def _mark_start(text: str, loc: int, toks: ParseResults) -> None:
    """Remember where a group (`{`) or a SERVICE keyword begins, in the node itself."""
    _check_budget(text, loc, toks)
    toks[0]["_at"] = loc


def _where_keyword(text: str, loc: int, toks: ParseResults) -> ParamValue:
    """The WHERE keyword becomes a parameter of the enclosing query node: its offset."""
    return ParamValue("_where_at", loc, False)


def _build() -> ModuleType:
    g = _load_copy()
    # on the terminals: an alternation (Var = VAR1 | VAR2) is told the offset before whitespace
    for terminal in (g.VAR1, g.VAR2):
        terminal.set_parse_action(_locate_var)
    g.Var.set_parse_action(_unchanged)
    g.GroupGraphPattern.add_parse_action(_mark_start)
    g.PrefixedName.add_parse_action(_mark_start)
    _flat_triple_blocks(g)
    _escapes_only_in_strings_and_iris(g)
    for terminal in (g.INTEGER, g.DECIMAL, g.DOUBLE, g.A, g.BLANK_NODE_LABEL, g.PathElt):
        terminal.add_parse_action(_check_budget)
    g.ServiceGraphPattern.set_name(SERVICE)
    g.ServiceGraphPattern.add_parse_action(_mark_start)
    g.WhereClause.exprs[0].expr.set_parse_action(_where_keyword)  # Optional(Keyword("WHERE"))
    short_construct = g.ConstructQuery.expr.exprs[1].exprs[1]  # DatasetClause* WHERE { ... }
    _keyword_in(short_construct, "WHERE").set_parse_action(_where_keyword)
    _end_comments_at_cr(g)  # last: it reaches every part of the grammar as it now is
    return g


def _flat_triple_blocks(g: ModuleType) -> None:
    """rdflib's rules for a block of triple patterns and a CONSTRUCT template recurse once per
    triple, so a flat query of ~1,500 patterns would exhaust the recursion limit as if it were
    deeply nested. The same language, without the recursion: T ( '.' T )* '.'?"""
    for forward, name, triple in (
        (g.TriplesBlock, "triples", g.TriplesSameSubjectPath),
        (g.ConstructTriples, "template", g.TriplesSameSubject),
    ):
        one = ParamList(name, triple)
        forward <<= one + ZeroOrMore(Suppress(".") + one) + Optional(Suppress("."))


def _end_comments_at_cr(g: ModuleType) -> None:
    """rdflib skips a comment up to the next line feed (`rest_of_line`); SPARQL ends it at a
    carriage return too. Left alone, `# x\r SERVICE <…> {} \n` would hide from this reader a
    SERVICE that Oxigraph calls. The comment skipper goes from every part of the grammar, and
    SPARQL's is given to all of them."""
    seen: set[int] = set()
    todo: list[ParserElement] = [g.QueryUnit, g.UpdateUnit]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        e.ignoreExprs = []
        todo.extend(getattr(e, "exprs", ()))
        if getattr(e, "expr", None) is not None:
            todo.append(e.expr)
    comment = Suppress(Regex(r"#[^\r\n]*"))
    g.QueryUnit.ignore(comment)
    g.UpdateUnit.ignore(comment)


_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_ECHAR = r"\\[tbnrf\\\"']"
_STRINGS = {  # SPARQL 1.1 [156]-[159], with \u escapes in place (rdflib: expanded beforehand)
    3: (
        rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''",
        rf'"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*"""',
    ),
    1: (rf"'(?:[^'\n\r\\]|{_ECHAR}|{_UCHAR})*'(?!')", rf'"(?:[^"\n\r\\]|{_ECHAR}|{_UCHAR})*"(?!")'),
}


def _escapes_only_in_strings_and_iris(g: ModuleType) -> None:
    """Read \\uXXXX escapes where Oxigraph reads them: in strings and IRIs only.

    rdflib expands them in the whole text before parsing (SPARQL 1.1 §19.2); Oxigraph does not,
    and the two then see different tokens: `"\\u0022" SERVICE <…> {}` followed by a long string
    is a string, a SERVICE and a string to Oxigraph, and one long string to a reader that expands
    first. The engine decides what runs, so the reader reads as it does (and its offsets are the
    text's).
    """
    iri_body = _regex_in(g.IRIREF)
    new_body = Regex(rf'(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*').leave_whitespace()
    _replace(g.IRIREF, iri_body, new_body)
    g.IRIREF.set_parse_action(_check_budget, lambda t: URIRef(decodeUnicodeEscape(t[0])))
    for old in _regexes_in(g.String):
        quotes = 3 if old.pattern.startswith(("'''", '"""')) else 1
        pattern = _STRINGS[quotes][0 if old.pattern.startswith("'") else 1]
        new = Regex(pattern)
        new.set_parse_action(_check_budget, _string_of(quotes))
        _replace(g.String, old, new)


def _string_of(quotes: int):
    return lambda t: Literal(decodeUnicodeEscape(t[0][quotes:-quotes]))


def _regexes_in(element: ParserElement) -> list[Regex]:
    found, todo = [], [element]
    while todo:
        e = todo.pop()
        if isinstance(e, Regex):
            found.append(e)
        todo.extend(getattr(e, "exprs", ()))
        if getattr(e, "expr", None) is not None:
            todo.append(e.expr)
    return found


def _regex_in(element: ParserElement) -> Regex:
    (found,) = _regexes_in(element)
    return found


def _replace(element: ParserElement, old: ParserElement, new: ParserElement) -> None:
    """Put `new` where `old` is among the parts of `element` (and of its parts)."""
    todo = [element]
    while todo:
        e = todo.pop()
        exprs = getattr(e, "exprs", None)
        if exprs is not None:
            e.exprs = [new if x is old else x for x in exprs]
            todo.extend(exprs)
        if getattr(e, "expr", None) is old:
            e.expr = new
        elif getattr(e, "expr", None) is not None:
            todo.append(e.expr)


def _keyword_in(element: ParserElement, word: str) -> ParserElement:
    """The keyword `word` among the parts of a rule (not inside the rules it names)."""
    todo = [element]
    while todo:
        e = todo.pop()
        if isinstance(e, CaselessKeyword) and e.match == word:
            return e
        if isinstance(e, Forward | TokenConverter):
            continue
        todo.extend(getattr(e, "exprs", ()))
        if getattr(e, "expr", None) is not None:
            todo.append(e.expr)
    raise LookupError(f"no {word} keyword in {element}")


grammar = _build()
