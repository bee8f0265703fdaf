"""Integrity checks SHACL cannot express well, run inside Oxigraph over the input.

Each `graph/queries/checks/*-violation.rq` must return zero rows (the ODK convention); a row is
a violation with ?focus, ?g (the graph, mapped back to its file) and ?message. One check needs
files outside the graph and lives here in Python: every source document has a stored text
(data/texts/<source-slug>.txt, format and normalisation in graph/validate/source_texts.py) unless
it is marked kgo:notCheckable with the reason, and every quote attributed to a source with a stored
text (a claim's, or a kgo:FactSource's) occurs in that text verbatim. A failure names the file,
the claim or fact, the text file and the nearest differing passage of the text.
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import Store

from graph.build.inputs import Parsed
from graph.config import Settings
from graph.errors import Problem
from graph.queries import checks, run
from graph.validate import source_texts
from graph.validate.source_texts import StoredText


def in_memory_store(parsed: Parsed) -> Store:
    store = Store()
    store.extend(parsed.all_quads())
    return store


def _file(parsed: Parsed, graph: str | None) -> str | None:
    f = parsed.file_of_graph(graph) if graph else None
    return f.rel if f else graph


def run_checks(store: Store, parsed: Parsed, settings: Settings) -> list[Problem]:
    """Every row of every *-violation.rq as a located Problem."""
    problems = []
    for check in checks():
        for row in run(store, check, base_iri=settings.base_iri):
            graph = row["g"].value if row["g"] is not None else None
            problems.append(
                Problem(
                    row["message"].value if row["message"] is not None else check.title,
                    file=_file(parsed, graph),
                    focus=row["focus"].value if row["focus"] is not None else None,
                    check=check.name.removeprefix("checks/").removesuffix("-violation"),
                )
            )
    return problems


def _text_path(settings: Settings, source_iri: str) -> Path | None:
    prefix = settings.base_iri + "id/source/"
    if settings.texts_dir is None or not source_iri.startswith(prefix):
        return None
    return settings.texts_dir / f"{source_iri[len(prefix):]}.txt"


def _rel(settings: Settings, path: Path) -> str:
    """The text file as a reader of the repository names it (data/texts/x.txt)."""
    for root in (settings.data_dir.parent if settings.data_dir else None, settings.root):
        if root is not None and path.is_relative_to(root):
            return str(path.relative_to(root))
    return str(path)


def source_text(settings: Settings, source_iri: str) -> StoredText | None:
    """The stored text of a source of ours, when data/texts/<source-slug>.txt exists."""
    path = _text_path(settings, source_iri)
    return source_texts.read(path) if path is not None and path.is_file() else None


class _Texts:
    """Each source's stored text, read once, with the problems of its header and its mark."""

    def __init__(self, store: Store, parsed: Parsed, settings: Settings):
        self.settings = settings
        self.texts: dict[str, StoredText | None] = {}
        self.problems: list[Problem] = []
        for row in run(store, "source_documents", base_iri=settings.base_iri):
            self._source(row, parsed)

    def _source(self, row, parsed: Parsed) -> None:
        iri, mark = row["source"].value, row["notCheckable"]
        st = source_text(self.settings, iri)
        self.texts[iri] = st
        where = {"file": _file(parsed, row["g"].value), "focus": iri, "check": "stored-text"}
        if st is None and mark is None:
            path = _text_path(self.settings, iri)
            shown = _rel(self.settings, path) if path else "data/texts/<slug>.txt"
            self.problems.append(Problem(
                f"source has no stored text ({shown}) and is not marked kgo:notCheckable "
                "with the reason", **where))
        elif st is not None and mark is not None:
            self.problems.append(Problem(
                f"source is marked kgo:notCheckable but {_rel(self.settings, st.path)} exists: "
                "drop one", **where))
        elif st is not None:
            self.problems.extend(
                Problem(f"{_rel(self.settings, st.path)}: {e}", **where) for e in st.errors)

    def get(self, source_iri: str) -> StoredText | None:
        if source_iri not in self.texts:  # quoted, but not a kgo:SourceDocument of the input
            self.texts[source_iri] = source_text(self.settings, source_iri)
        return self.texts[source_iri]


def _quote_problem(st: StoredText, exact: str, row, parsed: Parsed, settings: Settings) -> Problem:
    return Problem(
        f"quote not found verbatim in {_rel(settings, st.path)}: {exact!r}; "
        f"{source_texts.nearest_difference(st, exact)}",
        file=_file(parsed, row["g"].value),
        focus=row["claim"].value,
        check="quote-verbatim",
    )


def check_quotes(store: Store, parsed: Parsed, settings: Settings) -> list[Problem]:
    """Every source has a stored text or says why not; every quote of a source with a stored
    text occurs in it verbatim; every kgo:FactSource of such a source carries a quote."""
    texts = _Texts(store, parsed, settings)
    problems = list(texts.problems)
    for row in run(store, "quotes", base_iri=settings.base_iri):
        if row["source"] is None:
            continue  # a claim without a source: reported by its own check
        st = texts.get(row["source"].value)
        if st is not None and st.body and not source_texts.contains(st, row["exact"].value):
            problems.append(_quote_problem(st, row["exact"].value, row, parsed, settings))
    for row in run(store, "fact_sources", base_iri=settings.base_iri):
        st = texts.get(row["source"].value) if row["source"] is not None else None
        if st is not None and int(row["quotes"].value) == 0:
            problems.append(Problem(
                f"the source's text is stored ({_rel(settings, st.path)}) but this fact "
                "carries no quote (kgo:evidence)",
                file=_file(parsed, row["g"].value), focus=row["fact"].value,
                check="fact-quote"))
    return problems


def quote_coverage(store: Store, settings: Settings) -> dict[str, int]:
    """How many claims are checked against a stored text and how many cannot be (their source
    is marked kgo:notCheckable), for VoID and the site."""
    checked, unchecked = set(), set()
    texts: dict[str, bool] = {}
    for row in run(store, "quotes", base_iri=settings.base_iri):
        if row["source"] is None:
            continue
        src = row["source"].value
        if src not in texts:
            path = _text_path(settings, src)
            texts[src] = path is not None and path.is_file()
        (checked if texts[src] else unchecked).add(row["claim"].value)
    return {"checked": len(checked), "not_checkable": len(unchecked - checked)}


def check(parsed: Parsed, settings: Settings, store: Store | None = None) -> list[Problem]:
    """All integrity problems of the input (empty list: it passes).

    `store`: a store already holding exactly the input's graphs (the build's new store, before
    its description is added); without it, the parsed quads go into a store in memory.
    """
    if store is None:
        store = in_memory_store(parsed)
    problems = run_checks(store, parsed, settings) + check_quotes(store, parsed, settings)
    # rows come in the store's index order, which differs between an in-memory and an on-disk
    # store: sort, so `kg validate` and `kg build` report the same problems the same way
    return sorted(problems, key=lambda p: (p.file or "", p.focus or "", p.check or "", p.message))
