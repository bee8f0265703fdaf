"""Competing accounts side by side: one page per disputed question, and the recognitions.

/accounts              the disputed questions, each linking to its comparison
/accounts/<question>   every claim bearing on the question (accounts, dates, figures): the
                       position or value, who it is attributed to, the source, its date and
                       perspective, the quote; claims giving the same answer sort together
/recognitions          which bodies adopted what, when, calling it what, according to which
                       source; a map of the bodies the graph places (the others listed as not
                       on it); and the sources' differing counts of recognitions side by side
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from endpoint.pages import accounts_map
from endpoint.pages.accounts_data import AccountsData
from endpoint.pages.site import _not_past_the_end, _page_number, _site_data

bp = Blueprint("accounts", __name__)


def _data() -> AccountsData:
    return AccountsData(_site_data())


@bp.get("/accounts")
def questions() -> str:
    """The index: every disputed question."""
    return render_template("accounts.html", questions=_data().questions(), question=None)


@bp.get("/accounts/<slug>")
def compared(slug: str) -> str:
    """Every claim on one question, side by side."""
    data = _data()
    question = data.question(slug)
    if question is None:
        abort(404)
    return render_template("accounts.html", questions=data.questions(), question=question,
                           positions=data.positions(slug))


@bp.get("/recognitions")
def recognitions() -> str:
    """Recognition claims a page at a time, and the counts of recognitions compared."""
    data = _data()
    rows, page = data.recognitions(_page_number())
    _not_past_the_end(rows, page)
    row_ids: dict[str, str] = {}  # the id a body's map link points to: its first row here
    for r in rows:
        anchor = accounts_map.body_anchor(r.body.value)
        if anchor not in row_ids.values():
            row_ids[r.claim.value] = anchor
    return render_template("recognitions.html", recognitions=rows, page=page, row_ids=row_ids,
                           counts=data.positions("recognition-count"),
                           map=accounts_map.draw(*data.recognition_bodies()))
