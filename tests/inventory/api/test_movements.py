"""`POST /api/v1/stock/movements` takes one of six stock actions, told apart by `kind`: the
OpenAPI shows the union (one schema per action, `kind` the discriminator), and each
action's rule refuses what it does not take in a sentence naming the field."""

from __future__ import annotations

import pytest

from inventory.schemas.stock import MOVEMENT_ACTIONS
from tests.inventory_factories import move


def test_the_openapi_shows_one_schema_per_stock_action_with_kind_as_discriminator(client):
    spec = client.get("/schema/openapi.json").json()
    body = spec["paths"]["/api/v1/stock/movements"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    names = [action.__name__ for action in MOVEMENT_ACTIONS.values()]
    assert [ref["$ref"] for ref in schema["oneOf"]] == [f"#/components/schemas/{n}" for n in names]
    assert schema["discriminator"] == {
        "propertyName": "kind",
        "mapping": {k: f"#/components/schemas/{a.__name__}" for k, a in MOVEMENT_ACTIONS.items()},
    }
    for kind, action in MOVEMENT_ACTIONS.items():
        component = spec["components"]["schemas"][action.__name__]
        assert component["properties"]["kind"]["const"] == kind
        assert set(component["required"]) == {"kind", "sku", "location", "quantity"}


REFUSALS = [
    ({"kind": "transfer", "quantity": 1}, "to_location", "A transfer needs to_location."),
    ({"kind": "transfer", "quantity": 1, "to_location": "exam1"}, "to_location",
     "A transfer needs two different locations."),
    ({"kind": "consume", "quantity": 1, "to_location": "SUPPLY"}, "to_location",
     "to_location is only for transfers."),
    ({"kind": "count", "quantity": -1}, "quantity", "A count is the total counted: 0 or more."),
    ({"kind": "adjust", "quantity": 0, "reason": "x"}, "quantity",
     "An adjustment must change the quantity (not 0)."),
    ({"kind": "adjust", "quantity": -1}, "reason", "A reason is required to adjust stock."),
    ({"kind": "discard", "quantity": 1, "reason": " "}, "reason",
     "A reason is required to discard stock."),
    ({"kind": "receive", "quantity": 0}, "quantity", "The quantity to receive must be at least 1."),
    ({"kind": "receive", "quantity": 1, "expires_on": "2030-01-01"}, "expires_on",
     "An expiry date belongs to a lot: give the lot too."),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field", "detail"), REFUSALS, ids=[r[2] for r in REFUSALS])
def test_each_action_refuses_what_it_does_not_take_naming_the_field(
    client, inv, ma, body, field, detail
):
    sku = inv.item()
    response = move(client, ma, sku=sku, location="EXAM1", **body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["detail"] == detail
    assert problem["errors"] == [{"field": field, "message": detail, "source": "body"}]
    assert inv.movement_count() == 0


def test_an_unknown_kind_is_refused_at_the_kind_field(client, inv, ma):
    response = move(client, ma, kind="steal", sku=inv.item(), location="EXAM1", quantity=1)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"
