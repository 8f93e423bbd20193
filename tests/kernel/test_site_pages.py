"""Sites on the pages (SPEC 9): the site in the header, a switcher for users of several
sites that narrows every page, the administrator's pages for sites and users' sites."""

from __future__ import annotations

from kernel.auth.models import Role
from tests.factories import csrf_token_from, page_login


def north(client, users) -> None:
    admin = users.headers(Role.ADMIN)
    site = {"code": "NORTH", "name": "North clinic", "timezone": "Europe/Berlin"}
    assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
    for code, where in (("M-SUP", "MAIN"), ("N-SUP", "NORTH")):
        body = {"code": code, "name": f"{where} supply", "site": where}
        assert client.post("/api/v1/locations", json=body, headers=admin).status_code == 201


def test_the_header_names_the_users_site(client, users):
    users.create(Role.MA, "mia")
    page_login(client, "mia")
    page = client.get("/scan")
    assert 'id="site-badge"' in page.text and ">MAIN<" in page.text
    assert 'id="site-switcher"' not in page.text  # one site: nothing to switch


def test_a_user_of_several_sites_switches_and_every_page_shows_that_site(client, users):
    north(client, users)
    users.create(Role.PURCHASING, "pat", sites=["MAIN", "NORTH"])
    page_login(client, "pat")
    listing = client.get("/catalogue/locations")
    assert "M-SUP" in listing.text and "N-SUP" in listing.text
    assert 'id="site-switcher"' in listing.text
    csrf = csrf_token_from(listing.text)
    switched = client.post("/site", data={"site": "north", "next": "/catalogue/locations",
                                          "_csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert switched.status_code == 303 and switched.headers["location"] == "/catalogue/locations"
    listing = client.get("/catalogue/locations")
    assert "N-SUP" in listing.text and "M-SUP" not in listing.text
    assert client.get("/catalogue/locations/M-SUP").status_code == 404
    # The API is not narrowed by the pages' switcher: `?site=` does that there.
    api = client.get("/api/v1/locations", headers={"Authorization": f"Bearer {users.token('pat')}"})
    assert {loc["code"] for loc in api.json()["items"]} == {"M-SUP", "N-SUP"}
    back = client.post("/site", data={"site": "", "next": "/", "_csrf_token": csrf},
                       follow_redirects=False)  # fmt: skip
    assert back.status_code == 303
    assert "M-SUP" in client.get("/catalogue/locations").text


def test_the_switcher_never_widens_what_a_user_sees(client, users):
    north(client, users)
    users.create(Role.PURCHASING, "pat")  # MAIN only
    page_login(client, "pat")
    csrf = csrf_token_from(client.get("/scan").text)
    client.post("/site", data={"site": "NORTH", "next": "/", "_csrf_token": csrf})
    client.cookies.set("steristock_site", "NORTH")  # even a hand-made cookie
    listing = client.get("/catalogue/locations")
    assert "M-SUP" in listing.text and "N-SUP" not in listing.text


def test_admin_adds_a_site_and_gives_a_user_sites_on_the_pages(client, users):
    users.create(Role.ADMIN, "boss")
    users.create(Role.MA, "mia")
    page_login(client, "boss")
    page = client.get("/admin/sites")
    form = {"code": "south", "name": "South", "timezone": "Mars/Base",
            "nonce": "n1", "_csrf_token": csrf_token_from(page.text)}  # fmt: skip
    refused = client.post("/admin/sites", data=form)
    assert refused.status_code == 422 and "IANA" in refused.text
    form |= {"timezone": "Australia/Sydney", "nonce": "n2"}
    added = client.post("/admin/sites", data=form, follow_redirects=False)
    assert added.status_code == 303
    assert "Australia/Sydney" in client.get("/admin/sites").text
    user_page = client.get("/admin/users/mia")
    assert 'id="sites-form"' in user_page.text
    saved = client.post("/admin/users/mia/sites", data={
        "sites": ["MAIN", "SOUTH"], "nonce": "n3", "_csrf_token": csrf_token_from(user_page.text)
    }, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text
    me = client.get("/api/v1/users", headers=users.headers(Role.ADMIN)).json()["items"]
    assert next(u for u in me if u["username"] == "mia")["sites"] == ["MAIN", "SOUTH"]
