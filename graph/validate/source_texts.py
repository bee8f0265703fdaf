"""The stored texts of source documents (data/texts/<source-slug>.txt) and the verbatim test.

A stored text is the passages the graph quotes, in their context, exactly as read, after a
header of `#` lines that says where and when they were read and how much of the document it is:

    # read-from: <where the text was read: URL of the stored copy, and what it is>
    # read-on: 2026-12-04
    # extent: full text | excerpt: <which passages>
    # note: <anything else worth knowing> (any number of note lines)
    <blank line>
    <the text>

`read-from` may repeat (an excerpt taken from two copies of one document). Only the text after
the header is searched, so a quote can never be "found" in the header.

A quote is found when it occurs in the text after both are normalised in exactly these ways and
no others: every run of whitespace (spaces, tabs, line breaks, no-break spaces) becomes one
space; the typographic single quotes and apostrophes ‘ ’ ‚ ‛ become ', the typographic double
quotes “ ” „ ‟ become ", and the dashes ‐ ‑ ‒ – — ― and the minus sign − become -. Letters,
digits, case, footnote marks, stress marks and every other character must match as they are,
because a changed digit or word is exactly what the check is there to catch.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

_WS = re.compile(r"\s+")
_TYPOGRAPHIC = str.maketrans({
    **dict.fromkeys("‘’‚‛", "'"),
    **dict.fromkeys("“”„‟", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
})
_FIELD = re.compile(r"#\s*(read-from|read-on|extent|note)\s*:\s*(.*)$")
CONTEXT = 24  # characters of the text shown either side of a difference


def normalise(text: str) -> str:
    return _WS.sub(" ", text.translate(_TYPOGRAPHIC)).strip()


@dataclass
class StoredText:
    """One data/texts file: its header fields, its text (normalised) and what is wrong with it."""

    path: Path
    read_from: list[str] = field(default_factory=list)
    read_on: str | None = None
    extent: str | None = None
    body: str = ""
    errors: list[str] = field(default_factory=list)


def read(path: Path) -> StoredText:
    """Parse a stored text; a header that lacks a field or has a malformed one is an error."""
    st = StoredText(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    n = 0
    while n < len(lines) and lines[n].startswith("#"):
        m = _FIELD.match(lines[n])
        if m is None:
            st.errors.append(f"header line {n + 1} is not '# read-from|read-on|extent|note: ...'")
        elif m[1] == "read-from" and m[2]:
            st.read_from.append(m[2])
        elif m[1] == "read-on":
            st.read_on = m[2]
        elif m[1] == "extent":
            st.extent = m[2]
        n += 1
    st.body = normalise("\n".join(lines[n:]))
    if not st.read_from:
        st.errors.append("the header does not say where the text was read (# read-from: ...)")
    try:
        date.fromisoformat(st.read_on or "")
    except ValueError:
        st.errors.append("the header does not say when it was read (# read-on: YYYY-MM-DD)")
    if not (st.extent or "").startswith(("full text", "excerpt")):
        st.errors.append("the header does not say '# extent: full text' or 'excerpt: ...'")
    if not st.body:
        st.errors.append("the file holds no text after its header")
    return st


def contains(st: StoredText, quote: str) -> bool:
    return normalise(quote) in st.body


def _closest_window(body: str, quote: str) -> tuple[int, int]:
    """Where in `body` the quote comes closest: the window of the quote's length, starting at a
    word or where the quote's first or last characters occur, with the best difflib ratio
    (quick_ratio prunes most windows)."""
    n = len(quote)
    starts = {0} | {m.end() for m in re.finditer(r"\s", body)}
    # where the quote's first or last words occur, even glued to a word before them
    head, tail = quote[:12], quote[-12:]
    starts |= {m.start() for m in re.finditer(re.escape(head), body)}
    starts |= {max(0, m.end() - n) for m in re.finditer(re.escape(tail), body)}
    best, best_at = -1.0, 0
    for s in sorted(starts):
        window = body[s:s + n]
        sm = difflib.SequenceMatcher(None, quote, window, autojunk=False)
        if sm.quick_ratio() <= best:
            continue
        r = sm.ratio()
        if r > best:
            best, best_at = r, s
    return best_at, min(len(body), best_at + n)


def nearest_difference(st: StoredText, quote: str) -> str:
    """A short account of how the quote differs from the closest passage of the text, e.g.
    `quote has "999" where the text has "613": "…A total of 613 people were…"`."""
    q = normalise(quote)
    if not st.body:
        return "the text is empty"
    a, b = _closest_window(st.body, q)
    window = st.body[a:b]
    sm = difflib.SequenceMatcher(None, q, window, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        ours, theirs = q[i1:i2], window[j1:j2]
        at = a + j1
        around = st.body[max(0, at - CONTEXT):at + (j2 - j1) + CONTEXT]
        if op == "insert":
            what = f"the text has {theirs!r} that the quote lacks"
        elif op == "delete":
            what = f"the quote has {ours!r} that the text lacks"
        else:
            what = f"the quote has {ours!r} where the text has {theirs!r}"
        return f"{what}, in the text: \"…{around}…\""
    return f"closest passage: \"…{window}…\""
