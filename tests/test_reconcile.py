"""The reconciliation service (API 0.2), checked against the specification's own JSON schemas
(tests/fixtures/reconciliation-schemas/) and used the way OpenRefine uses it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMAS = FIXTURES / "reconciliation-schemas"


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT7)
        resources.append((schema["$id"], resource))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(name: str, instance: object) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    Draft7Validator(schema, registry=REGISTRY).validate(instance)


def reconcile(client, queries: dict) -> dict:
    """What OpenRefine does: POST a form whose `queries` field is the JSON batch."""
    validate("reconciliation-query-batch", queries)
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.text
    validate("reconciliation-result-batch", response.json)
    return response.json


def test_the_manifest_is_valid_and_names_the_services(client):
    manifest = client.get("/reconcile").json
    validate("manifest", manifest)
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == "https://w3id.org/khojaly/id/"
    types = {t["id"] for t in manifest["defaultTypes"]}
    assert {"https://schema.org/Place", "https://schema.org/Organization"} <= types
    view = manifest["view"]["url"].replace("{{id}}", "place/khojaly")
    assert client.get(view.removeprefix("http://localhost")).status_code == 303


def test_a_spreadsheet_of_names_reconciles_to_the_expected_things(client):
    with (FIXTURES / "reconcile-names.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10
    queries = {f"q{n}": {"query": r["name"], "type": r["type"], "type_strict": "should",
                         "limit": 3} for n, r in enumerate(rows)}
    results = reconcile(client, queries)
    top = {key: (answer["result"][0]["id"] if answer["result"] else None)
           for key, answer in results.items()}
    expected = {f"q{n}": r["expected"] for n, r in enumerate(rows)}
    assert top == expected
    # exact names in any script are certain matches; a misspelling is offered, not matched
    assert results["q0"]["result"][0]["match"] and results["q2"]["result"][0]["match"]
    assert results["q3"]["result"][0]["match"]
    assert not results["q1"]["result"][0]["match"]


def test_without_a_type_every_kind_competes_and_the_exact_label_wins(client):
    answer = reconcile(client, {"q0": {"query": "Baku"}})["q0"]["result"]
    assert answer[0]["id"] == "place/baku" and answer[0]["score"] == 100
    assert any(c["id"].startswith("source/") for c in answer[1:])


def test_a_type_filters_candidates(client):
    answer = reconcile(client, {"q0": {"query": "Human Rights Watch",
                                       "type": "https://schema.org/Place"}})["q0"]["result"]
    assert all(c["id"].startswith("place/") for c in answer)


def test_suggest_services_answer_in_the_specified_shape(client):
    entities = client.get("/reconcile/suggest/entity?prefix=Xoc").json
    validate("suggest-entities-response", entities)
    assert entities["result"][0]["id"] == "place/khojaly"
    types = client.get("/reconcile/suggest/type?prefix=Place").json
    validate("suggest-types-response", types)
    assert types["result"][0]["id"] == "https://schema.org/Place"
    validate("suggest-properties-response", client.get("/reconcile/suggest/property").json)


def test_preview_is_an_escaped_card_and_unknown_ids_are_404(client):
    card = client.get("/reconcile/preview?id=place/khojaly")
    assert card.status_code == 200 and "Khojaly" in card.text
    missing = client.get("/reconcile/preview?id=<script>x</script>",
                         headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "<script>x" not in missing.text


@pytest.mark.parametrize("queries, words", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object of queries"),
    ("{}", "JSON object of queries"),
    ('{"q0": "Baku"}', "must be an object"),
    ('{"q0": {"query": ""}}', "something to search for"),
    ('{"q0": {"query": "' + "x" * 300 + '"}}', "at most 200"),
    ('{"q0": {"query": "\\ud800"}}', "not valid Unicode"),
    ('{"q0": {"query": "Baku", "limit": "ten"}}', "'limit'"),
    ('{"q0": {"query": "Baku", "type": 7}}', "'type'"),
    ('{"q0": {"query": "Baku", "properties": [{"v": 1}]}}', "'properties'"),
    (json.dumps({f"q{n}": {"query": "Baku"} for n in range(101)}), "at most 100"),
])
def test_bad_batches_are_a_400_in_json(client, queries, words):
    response = client.post("/reconcile", data={"queries": queries})
    assert response.status_code == 400
    assert response.mimetype == "application/json" and words in response.json["message"]
