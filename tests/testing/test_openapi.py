"""``GET /_fake/openapi.json`` describes every endpoint as served: real answers validate."""

from __future__ import annotations

import json
from typing import Any

from thoughtcredits.testing import FakeCreditsServer
from thoughtcredits.testing._server.table import ROUTES

from .conftest import KEY, Http, Reply, account_body


def check(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The subset of JSON Schema the document uses: type, enum, const, oneOf, objects, arrays."""
    if "oneOf" in schema:
        matches = 0
        for option in schema["oneOf"]:
            try:
                check(value, option, where)
                matches += 1
            except AssertionError:
                pass
        assert matches == 1, f"{where}: {value!r} matches {matches} of oneOf"
        return
    if "const" in schema:
        assert value == schema["const"], where
    if "enum" in schema:
        assert value in schema["enum"], where
    kind = schema.get("type")
    types = {"string": str, "object": dict, "array": list, "boolean": bool, "null": type(None)}
    if kind in ("integer", "number"):
        assert isinstance(value, int | float), where
        assert not isinstance(value, bool), where
        assert kind == "number" or isinstance(value, int), where
        assert value >= schema.get("minimum", value), where
        assert value <= schema.get("maximum", value), where
    elif kind is not None:
        assert isinstance(value, types[kind]), f"{where}: {value!r} is not {kind}"
    if kind == "object":
        assert set(schema["required"]) <= set(value), f"{where}: missing fields"
        for name, item in value.items():
            assert name in schema["properties"], f"{where}: undocumented field {name}"
            check(item, schema["properties"][name], f"{where}.{name}")
    if kind == "array":
        for index, item in enumerate(value):
            check(item, schema["items"], f"{where}[{index}]")


async def document(http: Http) -> dict[str, Any]:
    url = f"{http.server.url}/_fake/openapi.json"
    async with http.session.get(url, headers={"Authorization": f"Bearer {KEY}"}) as response:
        assert response.status == 200
        loaded: dict[str, Any] = json.loads(await response.read())
        return loaded


def conforms(doc: dict[str, Any], template: str, method: str, reply: Reply) -> None:
    operation = doc["paths"][template][method]
    doc.setdefault("checked", set()).add(operation["operationId"])
    response = operation["responses"][str(reply.status)]
    check(json.loads(reply.raw), response["content"]["application/json"]["schema"])


async def test_document_lists_exactly_the_served_routes(
    http: Http, fake: FakeCreditsServer
) -> None:
    """Every API route of the app, and nothing else, with its operationId and the bearer scheme."""
    doc = await document(http)
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": f"{fake.url}/incoming/v2"}]
    served = {
        (r.method.lower(), r.resource.canonical.removeprefix("/incoming/v2"), r.name)
        for r in fake.make_app().router.routes()
        if r.name in ROUTES and r.resource is not None
    }
    documented = {
        (method, path, operation["operationId"])
        for path, methods in doc["paths"].items()
        for method, operation in methods.items()
    }
    assert documented == served
    # One operation per route of the server's table, and every endpoint the SDK calls among them.
    assert sorted(operation for _, _, operation in documented) == sorted(ROUTES)
    sdk_routes = {"list_credit_batches", "create_credit_batch", "update_credit_batch",
                  "list_credit_actions", "create_credit_account"}  # fmt: skip
    assert sdk_routes <= ROUTES
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


async def test_real_answers_validate_against_the_document(http: Http, cid: str) -> None:
    """Answers of every route, success and error, match their documented schemas."""
    doc = await document(http)
    made = await http.post(f"/clients/{cid}/creditAccounts", account_body(batchDaysUntilExpire=3))
    conforms(doc, "/clients/{id}/creditAccounts", "post", made)
    aid = made.payload("APICreateCreditAccount")["id"]
    batch = await http.post(f"/clients/{cid}/creditBatches", {"startingBalance": 5, "name": "b",
                                                              "creditAccountId": aid})  # fmt: skip
    conforms(doc, "/clients/{id}/creditBatches", "post", batch)
    bid = batch.payload("CreateCreditBatch")["id"]
    update = await http.put(f"/clients/creditBatches/{bid}", {"currentBalance": 2})
    conforms(doc, "/clients/creditBatches/{id}", "put", update)
    listing = await http.get(f"/clients/{cid}/creditBatches", clientId=cid)
    conforms(doc, "/clients/{id}/creditBatches", "get", listing)
    actions = "/clients/{id}/creditAccount/{creditAccountId}/creditActions"
    for kind in ("credit", "debit"):
        reply = await http.get(f"/clients/{cid}/creditAccount/{aid}/creditActions", clientId=cid,
                               actionType=kind)  # fmt: skip
        conforms(doc, actions, "get", reply)
    bad = await http.get(f"/clients/{cid}/creditBatches", clientId=cid, perPage="--5")
    conforms(doc, "/clients/{id}/creditBatches", "get", bad)
    missing = await http.put("/clients/creditBatches/6f1c2b8e-0d7a-4b59-9a52-1f0e7c3d2a10", {})
    conforms(doc, "/clients/creditBatches/{id}", "put", missing)
    assert doc["checked"] == ROUTES  # a new route needs its answers checked here too
