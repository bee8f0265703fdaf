"""A syntax error a person can act on: where it is, the line with a caret, and one sentence
saying what was expected.

The parser (rdflib's grammar, read by `graph.sparql.reader`) knows *where* a query stops being
SPARQL, but what it says it expected is the name of a grammar rule ("expected SelectQuery") or,
from Oxigraph, a list of character classes. A reader needs the usual causes named instead: a
bracket left open, a misspelt keyword, a prefix that was never declared. This module looks at
the text around the parser's position for those causes and says which one it is; only when
none applies does it fall back to the parser's own expectation, translated into words.
"""

from __future__ import annotations

import difflib
import re

from graph.errors import QuerySyntaxError

KEYWORDS = (
    "BASE PREFIX SELECT CONSTRUCT DESCRIBE ASK DISTINCT REDUCED FROM NAMED WHERE GROUP BY HAVING "
    "ORDER ASC DESC LIMIT OFFSET VALUES OPTIONAL GRAPH SERVICE SILENT BIND AS UNION MINUS FILTER "
    "EXISTS NOT IN UNDEF COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES "
    "DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE "
    "ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES "
    "SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG "
    "STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE TRUE FALSE"
).split()
_KEYWORD_SET = frozenset(KEYWORDS)

# pyparsing's rule names, as a reader would say them
_RULES = {
    "SelectQuery": "a query form (SELECT, CONSTRUCT, DESCRIBE or ASK)",
    "end of text": "the end of the query",
    "GroupGraphPattern": "a group pattern in braces `{ … }`",
    "TriplesBlock": "a triple pattern",
    "Var": "a variable such as `?x`",
    "VarOrTerm": "a variable, an IRI or a literal",
    "Expression": "an expression",
    "'}'": "a closing brace `}`",
    "'{'": "an opening brace `{`",
    "')'": "a closing parenthesis `)`",
    "'('": "an opening parenthesis `(`",
    "'.'": "a dot `.`",
}

_PAIRS = {"{": "}", "(": ")", "[": "]"}
_CLOSERS = {v: k for k, v in _PAIRS.items()}
# what the bracket scan skips: strings (long ones first), IRIs, comments
_SKIP = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*'
)


def line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def syntax_error(text: str, offset: int, sentence: str) -> QuerySyntaxError:
    """The error at `offset` of `text`, its message `line L, column C: sentence`, carrying the
    line and a caret under the column for every rendering (text, JSON, HTML, the CLI)."""
    offset = max(0, min(offset, len(text)))
    line, column = line_column(text, offset)
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    source_line = text[start : end if end >= 0 else len(text)].rstrip("\r")
    return QuerySyntaxError(
        f"line {line}, column {column}: syntax error, {sentence}",
        line=line,
        column=column,
        expected=sentence,
        source_line=source_line,
    )


def unknown_prefix(text: str, offset: int, prefix: str, known: list[str]) -> QuerySyntaxError:
    """`schem:` used but never declared: suggest the nearest declared or built-in prefix."""
    close = difflib.get_close_matches(prefix, known, n=1, cutoff=0.6)
    hint = f" — did you mean `{close[0]}:`?" if close else " — declare it with a PREFIX line"
    return syntax_error(text, offset, f"unknown prefix `{prefix}:`{hint}")


def explain(text: str, offset: int, parser_expected: str) -> QuerySyntaxError:
    """The most useful reading of a parse failure at `offset` (see the module docstring)."""
    bracket = _bracket_problem(text)
    if bracket is not None and offset >= bracket[2]:  # the parser got as far as the bracket
        return syntax_error(text, bracket[0], bracket[1])
    clause = _clause_problem(text, offset)
    if clause is not None:
        return syntax_error(text, offset, clause)
    word = re.match(r"[A-Za-z_]\w*", text[offset:])
    if word and not _in_term(text, offset):
        found = word.group(0)
        if found.upper() not in _KEYWORD_SET:
            close = difflib.get_close_matches(found.upper(), KEYWORDS, n=1, cutoff=0.75)
            if close:
                return syntax_error(
                    text, offset, f"`{found}` is not a SPARQL keyword — did you mean `{close[0]}`?"
                )
    return syntax_error(text, offset, _expectation(text, offset, parser_expected))


def _clause_problem(text: str, offset: int) -> str | None:
    """A clause written without what it needs: `SELECT WHERE`, `LIMIT x`, `ORDER ?s`."""
    if re.search(r"(?i)\bSELECT(\s+(DISTINCT|REDUCED))?\s*$", text[:offset]):
        return "expected `*` or the variables to select after `SELECT`"
    found = re.match(r"(?i)(LIMIT|OFFSET)\s*(\S*)", text[offset:])
    if found and not found.group(2).isdigit():
        what = f"`{found.group(2)}`" if found.group(2) else "nothing"
        return f"`{found.group(1).upper()}` takes a whole number, found {what}"
    found = re.match(r"(?i)(ORDER|GROUP)\s+(?!BY\b)(\S*)", text[offset:])
    if found:
        return f"expected `{found.group(1).upper()} BY`, found `{found.group(0).strip()}`"
    return None


def _expectation(text: str, offset: int, parser_expected: str) -> str:
    wanted = parser_expected.removeprefix("Expected ").removeprefix("expected ").strip()
    rule = wanted.split(",")[0].strip("{} ").split(" | ")[0]
    found = text[offset : offset + 20].split("\n")[0].strip()
    found = f"`{found}`" if found else "the end of the query"
    form_seen = re.search(r"(?i)\b(SELECT|CONSTRUCT|DESCRIBE|ASK)\b", _SKIP.sub(" ", text[:offset]))
    if rule == "SelectQuery" and form_seen:  # the whole query failed from a point inside it
        return f"the pattern or expression starting with {found} is not valid SPARQL"
    wanted = _RULES.get(rule, wanted)
    if len(wanted) > 80:
        wanted = wanted[:77] + "…"
    return f"expected {wanted}, found {found}"


def _in_term(text: str, offset: int) -> bool:
    """Whether `offset` is inside a word (a prefixed name, a variable...), not at its start."""
    return offset > 0 and (text[offset - 1].isalnum() or text[offset - 1] in "?$:_")


def _bracket_problem(text: str) -> tuple[int, str, int] | None:
    """The first closing bracket that closes nothing or the wrong thing, else the last opening
    one never closed (strings, IRIs and comments skipped): where to point, what to say, and
    the bracket the problem is about."""
    stack: list[tuple[str, int]] = []
    pos = 0
    while pos < len(text):
        skipped = _SKIP.match(text, pos)
        if skipped and skipped.end() > pos:
            pos = skipped.end()
            continue
        char = text[pos]
        if char in _PAIRS:
            stack.append((char, pos))
        elif char in _CLOSERS:
            if not stack:
                return pos, f"`{char}` closes nothing: no `{_CLOSERS[char]}` is open here", pos
            opener, at = stack.pop()
            if _PAIRS[opener] != char:
                line, column = line_column(text, at)
                return pos, (
                    f"expected `{_PAIRS[opener]}` to close the `{opener}` of line {line}, "
                    f"column {column}, found `{char}`"
                ), pos
        pos += 1
    if stack:
        opener, at = stack[-1]
        line, column = line_column(text, at)
        end = len(text.rstrip())
        return end, (
            f"the query ends before the `{opener}` of line {line}, column {column} is closed: "
            f"a `{_PAIRS[opener]}` is missing"
        ), at
    return None


def from_engine(text: str, message: str) -> QuerySyntaxError:
    """Oxigraph's syntax error ("error at 1:31: expected one of …", a grammar dump) as ours:
    its position kept, its list of expected characters replaced by what we can say."""
    found = re.match(r"error at (\d+):(\d+)", message)
    if not found:
        return syntax_error(text, 0, "the query is not valid SPARQL 1.1")
    line, column = int(found.group(1)), int(found.group(2))
    lines = text.split("\n")
    offset = min(sum(len(x) + 1 for x in lines[: line - 1]) + column - 1, len(text))
    if "Prefix not found" in message:
        pname = re.search(r"([A-Za-z][\w.-]*)?:[\w.-]*$", text[:offset])
        if pname:
            return unknown_prefix(text, pname.start(), pname.group(1) or "", [])
    return explain(text, offset, "valid SPARQL 1.1 here")
