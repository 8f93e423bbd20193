"""A tray belongs to a site (SPEC section 9, 11): made at the site named (or the user's
only one), seen only by users of that site; another site's tray answers like a missing one."""

from __future__ import annotations

from kernel.auth.models import Role

TOKYO = {"code": "TYO", "name": "Tokyo clinic", "timezone": "Asia/Tokyo"}


def test_a_tray_is_made_at_the_site_named_and_hidden_from_other_sites(sets, client, users):
    admin = users.headers(Role.ADMIN)
    assert client.post("/api/v1/sites", json=TOKYO, headers=admin).status_code == 201
    sets.template()
    main_tray = sets.tray()
    made = client.post("/api/v1/sets", json={"template": "SUTURE", "site": "TYO"}, headers=admin)
    assert made.status_code == 201 and made.json()["site"] == "TYO"
    assert main_tray["site"] == "MAIN"
    tokyo_tray = made.json()["code"]
    users.create(Role.MA, "mia")  # MAIN only
    mia = {"Authorization": f"Bearer {users.token('mia')}"}
    assert client.get(f"/api/v1/sets/{tokyo_tray}", headers=mia).status_code == 404
    assert client.get(f"/api/v1/sets/{tokyo_tray}/encounters", headers=mia).status_code == 404
    listed = client.get("/api/v1/sets", headers=mia).json()["items"]
    assert [s["code"] for s in listed] == [main_tray["code"]]
    refused = client.post("/api/v1/sets", json={"template": "SUTURE", "site": "TYO"}, headers=mia)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "site"
