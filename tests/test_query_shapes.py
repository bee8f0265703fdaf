"""Every query the site runs is O(answer): its time, over a one-triple lookup, does not grow from
a 10k store to a 1M one (bench/shapes.py, read the way the pages read them).

The generated data (bench.generate, seed 1992) and its stores are made once under var/bench/
(about half a minute on 2 cores the first time; seconds after). Ratios in one run, never an
absolute time: the machine may be busy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import shapes

PAGES = Path(__file__).resolve().parent.parent / "graph" / "queries" / "pages"
FACTOR = 5.0


@pytest.fixture(scope="module")
def stores():
    return shapes.store_for("10k"), shapes.store_for("1M")


def test_no_site_query_grows_with_the_store(stores):
    results = shapes.measure(*stores, "1M")
    lines, failures = shapes.report(results, "1M", FACTOR)
    assert {m.name.split(" ")[0] for m in results} == {
        f"pages/{p.stem}" for p in PAGES.glob("*.rq")
    }
    assert not failures, "O(store) shape:\n" + "\n".join(lines)


def _star(name: str, split: str, star: str) -> str:
    text = (PAGES / f"{name}.rq").read_text(encoding="utf-8")
    assert split in text, f"{name}.rq changed: update this test's star-shaped variant"
    return text.replace(split, star)


@pytest.mark.parametrize(
    ("name", "split", "star"),
    [
        (
            "sources",
            "  OPTIONAL { ?source dcterms:date ?date }\n"
            "  OPTIONAL { ?source dcterms:publisher ?publisher }\n",
            "  OPTIONAL { ?source dcterms:date ?date ; dcterms:publisher ?publisher }\n",
        ),
        (
            "sources_compared",
            "  OPTIONAL { ?claim kgo:populationGroup ?group }\n"
            "  OPTIONAL { ?claim schema:value ?value }\n",
            "  OPTIONAL { ?claim kgo:populationGroup ?group ; schema:value ?value }\n",
        ),
    ],
)
def test_a_star_shaped_optional_in_a_page_query_fails_the_check(stores, name, split, star):
    """The check is only worth its run time if it catches the shape it exists for."""
    bad = _star(name, split, star)
    results = [m for m in shapes.measure(*stores, "1M", texts={name: bad})
               if m.name == f"pages/{name}"]
    _, failures = shapes.report(results, "1M", FACTOR)
    assert failures == [f"pages/{name}"], results


def test_the_caps_in_the_queries_match_the_pages():
    """The LIMITs inside the .rq files and the constants the pages print must agree."""
    from endpoint.pages.describe import COUNT_CAP
    from endpoint.pages.entity_model import CLAIMS_COUNT_CAP, CLAIMS_SHOWN

    def limit(name: str) -> int:
        return int(re.search(r"LIMIT (\d+)", (PAGES / f"{name}.rq").read_text()).group(1))

    assert limit("entity_inverse_count") == COUNT_CAP + 1
    assert limit("claims_about_count") == CLAIMS_COUNT_CAP + 1
    assert limit("claims_about_labels") == CLAIMS_SHOWN + 1
    from endpoint.pages.accounts_data import CLAIMS_PER_QUESTION

    assert limit("accounts_compared") == CLAIMS_PER_QUESTION
