"""rdflib's SPARQL 1.1 grammar, in a private copy that also reports where things are.

`graph.query_reader` needs positions from the parser (where the top-level WHERE group opens,
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
from types import ModuleType

import rdflib.plugins.sparql.parser as _rdflib_parser
from pyparsing import (
    CaselessKeyword,
    Forward,
    ParserElement,
    ParseResults,
    Regex,
    Suppress,
    TokenConverter,
)
from rdflib.plugins.sparql.parserutils import ParamValue
from rdflib.term import Variable

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


def _locate_var(text: str, loc: int, toks: ParseResults) -> LocatedVariable:
    name = toks[0]
    return LocatedVariable(name, loc, loc + 1 + len(name))


def _unchanged(text: str, loc: int, toks: ParseResults) -> None:
    return None


def _mark_start(text: str, loc: int, toks: ParseResults) -> None:
    """Remember where a group (`{`) or a SERVICE keyword begins, in the node itself."""
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
    _end_comments_at_cr(g)
    g.ServiceGraphPattern.set_name(SERVICE)
    g.ServiceGraphPattern.add_parse_action(_mark_start)
    g.WhereClause.exprs[0].expr.set_parse_action(_where_keyword)  # Optional(Keyword("WHERE"))
    short_construct = g.ConstructQuery.expr.exprs[1].exprs[1]  # DatasetClause* WHERE { ... }
    _keyword_in(short_construct, "WHERE").set_parse_action(_where_keyword)
    return g


def _end_comments_at_cr(g: ModuleType) -> None:
    """rdflib skips a comment up to the next line feed (`rest_of_line`); SPARQL ends it at a
    carriage return too. Left alone, `# x\r SERVICE <…> {} \n` would hide from this reader a
    SERVICE that Oxigraph calls. The grammar's comment skipper is swapped everywhere it went."""
    old = {id(e) for e in (*g.QueryUnit.ignoreExprs, *g.UpdateUnit.ignoreExprs)}
    comment = Suppress(Regex(r"#[^\r\n]*"))
    seen: set[int] = set()
    todo: list[ParserElement] = [g.QueryUnit, g.UpdateUnit]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if any(id(x) in old for x in e.ignoreExprs):
            e.ignoreExprs = [x for x in e.ignoreExprs if id(x) not in old] + [comment]
        todo.extend(getattr(e, "exprs", ()))
        if getattr(e, "expr", None) is not None:
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
