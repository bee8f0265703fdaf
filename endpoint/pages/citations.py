"""Cite this: BibTeX, RIS and CSL-JSON for a source, a one-line citation for a claim.

    /cite/<kind>/<slug>            the citations as an HTML page (kind: source or claim)
    /cite/<kind>/<slug>.bib|.ris|.csl.json|.txt   one format, for reference managers

The same formats are negotiated on the thing's IRI and page (`Accept:
application/vnd.citationstyles.csl+json`, `application/x-bibtex`,
`application/x-research-info-systems`, `text/x-bibliography`), as DOI resolvers do. Every
citation names the dataset version (the build's content hash): a figure is cited together with
the state of the graph it was read from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask import Blueprint, Request, Response, abort, render_template, request, url_for

from endpoint.context import get_kg
from endpoint.http.negotiation import vary_accept
from graph.queries import run

bp = Blueprint("citations", __name__)

CITABLE = ("source", "claim")
CSL = "application/vnd.citationstyles.csl+json"
FORMATS = {  # extension -> media type
    "csl.json": CSL,
    "bib": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "txt": "text/x-bibliography",
}
DATASET_TITLE = "Khojaly Knowledge Graph"
_CSL_TYPES = {"NewsArticle": "article-newspaper", "Report": "report", "WebPage": "webpage"}
_BIB_TYPES = {"NewsArticle": "article", "Report": "techreport"}
_RIS_TYPES = {"NewsArticle": "NEWS", "Report": "RPRT", "WebPage": "ELEC"}


@dataclass
class Source:
    iri: str
    title: str
    date: str = ""  # xsd:date, gYearMonth or gYear, as written
    url: str = ""
    language: str = ""
    kind: str = ""  # schema.org class name
    authors: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)


@dataclass
class Claim:
    iri: str
    label: str
    quote: str
    source: Source


def _first(rows: list, name: str) -> str:
    for row in rows:
        term = row[name]
        if term is not None:
            return term.value
    return ""


def load_source(iri: str) -> Source | None:
    kg = get_kg()
    from pyoxigraph import NamedNode

    rows = list(run(kg.store, "pages/citation_source", base_iri=kg.settings.base_iri,
                    source=NamedNode(iri)))
    if not rows:
        return None
    kind = _first(rows, "type").rsplit("/", 1)[-1]
    source = Source(iri, _first(rows, "title") or _first(rows, "label"), _first(rows, "date"),
                    _first(rows, "url"), _first(rows, "language"), kind)
    for row in run(kg.store, "pages/citation_agents", base_iri=kg.settings.base_iri,
                   source=NamedNode(iri)):
        name = row["name"].value if row["name"] is not None else row["agent"].value
        target = source.authors if row["role"].value == "author" else source.publishers
        if name not in target:
            target.append(name)
    return source


def load_claim(iri: str) -> Claim | None:
    kg = get_kg()
    from pyoxigraph import NamedNode

    rows = list(run(kg.store, "pages/citation_claim", base_iri=kg.settings.base_iri,
                    claim=NamedNode(iri)))
    source = load_source(_first(rows, "source")) if rows else None
    if source is None:
        return None
    return Claim(iri, _first(rows, "label"), _first(rows, "quote"), source)


def _date_parts(date: str) -> list[int]:
    return [int(p) for p in re.findall(r"\d+", date)[:3]]


def _version() -> str:
    return get_kg().version


def source_text(s: Source) -> str:
    """The source as one line: authors. "Title". Publisher, date. URL."""
    parts = []
    if s.authors:
        parts.append("; ".join(s.authors) + ".")
    parts.append(f"\u201c{s.title}.\u201d")
    tail = ", ".join(x for x in (", ".join(s.publishers), s.date) if x)
    if tail:
        parts.append(tail + ".")
    if s.url:
        parts.append(s.url)
    return " ".join(parts)


def human(thing: Source | Claim) -> str:
    """The one-line citation: for a claim its quote, its source, its IRI and the version."""
    where = f"{DATASET_TITLE}, dataset version {_version()}"
    if isinstance(thing, Claim):
        quote = f"\u201c{thing.quote}\u201d \u2014 " if thing.quote else ""
        return f"{quote}{source_text(thing.source)} Claim <{thing.iri}>, {where}."
    return f"{source_text(thing)} Cited from <{thing.iri}>, {where}."


def _note(iri: str) -> str:
    return f"Cited from the {DATASET_TITLE}, <{iri}>, dataset version {_version()}"


def csl_item(s: Source, ident: str) -> dict[str, object]:
    item: dict[str, object] = {
        "id": ident,
        "type": _CSL_TYPES.get(s.kind, "document"),
        "title": s.title,
        "note": _note(s.iri),
    }
    if s.authors:
        item["author"] = [{"literal": a} for a in s.authors]
    if s.publishers:
        item["publisher"] = "; ".join(s.publishers)
        if s.kind == "NewsArticle":
            item["container-title"] = s.publishers[0]
    if s.date:
        item["issued"] = {"date-parts": [_date_parts(s.date)]}
    if s.url:
        item["URL"] = s.url
    if s.language:
        item["language"] = s.language
    return item


def csl(thing: Source | Claim) -> list[dict[str, object]]:
    """CSL-JSON: the source; for a claim, the claim (as a dataset entry) and then its source."""
    source = thing.source if isinstance(thing, Claim) else thing
    source_item = csl_item(source, _key(source.iri))
    if isinstance(thing, Source):
        return [source_item]
    claim_item = {
        "id": _key(thing.iri),
        "type": "dataset",
        "title": thing.label or thing.iri,
        "container-title": DATASET_TITLE,
        "version": _version(),
        "URL": thing.iri,
        "note": f"{_note(thing.iri)}; stated in {source.title}"
                + (f": \u201c{thing.quote}\u201d" if thing.quote else ""),
    }
    return [claim_item, source_item]


def _key(iri: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", iri.rsplit("/", 1)[-1]).strip("-") or "item"


_BIB_ESCAPES = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}
_BIB_SPECIAL = re.compile(r"([\\{}%&$#_^~])")


def _bib(text: str) -> str:
    """Text safe inside a braced BibTeX field: LaTeX's special characters escaped."""
    return _BIB_SPECIAL.sub(lambda m: _BIB_ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def bibtex(s: Source) -> str:
    entry = _BIB_TYPES.get(s.kind, "misc")
    fields = [("title", "{" + _bib(s.title) + "}")]
    if s.authors:
        fields.append(("author", " and ".join("{" + _bib(a) + "}" for a in s.authors)))
    if s.publishers:
        key = {"article": "journal", "techreport": "institution"}.get(entry, "publisher")
        fields.append((key, _bib(", ".join(s.publishers))))
    parts = _date_parts(s.date)
    if parts:
        fields.append(("year", str(parts[0])))
        if len(parts) > 1:
            fields.append(("month", str(parts[1])))
    if s.url:
        fields.append(("url", s.url.replace("}", "%7D").replace("{", "%7B")))
    if s.language:
        fields.append(("language", _bib(s.language)))
    fields.append(("note", _bib(_note(s.iri))))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{entry}{{{_key(s.iri)},\n{body}\n}}\n"


def ris(s: Source) -> str:
    lines = [f"TY  - {_RIS_TYPES.get(s.kind, 'GEN')}", f"TI  - {_one_line(s.title)}"]
    lines += [f"AU  - {_one_line(a)}" for a in s.authors]
    lines += [f"PB  - {_one_line(p)}" for p in s.publishers]
    parts = _date_parts(s.date)
    if parts:
        lines.append(f"PY  - {parts[0]:04d}")
        lines.append("DA  - " + "/".join(f"{p:02d}" for p in parts))
    if s.url:
        lines.append(f"UR  - {s.url}")
    if s.language:
        lines.append(f"LA  - {s.language}")
    lines += [f"N1  - {_note(s.iri)}", "ER  - "]
    return "\r\n".join(lines) + "\r\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def citable(iri: str) -> Source | Claim | None:
    """The source or claim an IRI of ours names, or None."""
    prefix = get_kg().settings.base_iri + "id/"
    if not iri.startswith(prefix):
        return None
    kind = iri[len(prefix) :].partition("/")[0]
    if kind == "source":
        return load_source(iri)
    if kind == "claim":
        return load_claim(iri)
    return None


def render(thing: Source | Claim, media_type: str) -> Response:
    source = thing.source if isinstance(thing, Claim) else thing
    if media_type == CSL:
        body = json.dumps(csl(thing), ensure_ascii=False, indent=2)
    elif media_type == FORMATS["bib"]:
        body = bibtex(source)
    elif media_type == FORMATS["ris"]:
        body = ris(source)
    else:
        body = human(thing) + "\n"
    return Response(body, mimetype=media_type)


def preferred(req: Request) -> str | None:
    """A citation format the client prefers to every page and RDF format we offer; else None.

    Only an explicit ask counts: `*/*` and browsers' headers never reach here as a citation."""
    accept = req.accept_mimetypes
    others = ("text/html", "text/turtle", "application/ld+json", "application/rdf+xml",
              "application/n-triples")
    best = accept.best_match([*FORMATS.values(), *others])
    if best in FORMATS.values() and accept.quality(best) > 0 and best in accept.values():
        return best
    return None


def _iri_for(kind: str, slug: str) -> str:
    if kind not in CITABLE:
        abort(404)
    return f"{get_kg().settings.base_iri}id/{kind}/{slug}"


@bp.get("/cite/<kind>/<path:slug>")
def cite(kind: str, slug: str) -> Response:
    for ext, media_type in FORMATS.items():
        if slug.endswith("." + ext):
            thing = citable(_iri_for(kind, slug[: -len(ext) - 1]))
            if thing is None:
                abort(404)
            return render(thing, media_type)
    thing = citable(_iri_for(kind, slug))
    if thing is None:
        abort(404)
    wanted = preferred(request)
    if wanted:
        return vary_accept(render(thing, wanted))
    html = render_template("citation.html", thing=thing, cite=citation_view(thing))
    return vary_accept(Response(html, mimetype="text/html"))


def citation_view(thing: Source | Claim) -> dict[str, object]:
    """What the entity page and the citation page show: the line and the download links."""
    prefix = get_kg().settings.base_iri + "id/"
    kind, _, slug = thing.iri[len(prefix) :].partition("/")
    source = thing.source if isinstance(thing, Claim) else thing
    return {
        "text": human(thing),
        "bibtex": bibtex(source),
        "page": url_for("citations.cite", kind=kind, slug=slug),
        "links": {label: url_for("citations.cite", kind=kind, slug=f"{slug}.{ext}")
                  for label, ext in (("BibTeX", "bib"), ("RIS", "ris"),
                                     ("CSL-JSON", "csl.json"), ("text", "txt"))},
    }


@bp.app_context_processor
def _cite_helper() -> dict[str, object]:
    def citation_for(iri: str) -> dict[str, object] | None:
        thing = citable(iri)
        return citation_view(thing) if thing is not None else None

    return {"citation_for": citation_for}
