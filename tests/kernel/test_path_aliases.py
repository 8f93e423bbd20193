"""A route can answer at a path Litestar's router cannot express (`/orders/{id}.pdf`):
the alias is routed to the route's own path, with its guards and parameters."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from kernel.web.path_aliases import serve_path_aliases


@get("/orders/{order_id:int}", sync_to_thread=False)
def one_order(order_id: int) -> dict[str, int]:
    return {"json": order_id}


@get(
    "/orders/{order_id:int}/pdf", sync_to_thread=False, opt={"path_alias": "/orders/{order_id}.pdf"}
)
def order_pdf(order_id: int) -> dict[str, int]:
    return {"pdf": order_id}


def test_an_alias_reaches_its_route_and_nothing_else_changes() -> None:
    app = Litestar([one_order, order_pdf])
    serve_path_aliases(app)
    with TestClient(app) as client:
        assert client.get("/orders/42.pdf").json() == {"pdf": 42}
        assert client.get("/orders/42/pdf").json() == {"pdf": 42}
        assert client.get("/orders/42").json() == {"json": 42}
        assert client.get("/orders/x.pdf").status_code == 404  # not an int: no such order
        assert client.get("/orders/42.pdf/more").status_code == 404
        assert client.get("/orders/4/2.pdf").status_code == 404


def test_an_app_without_aliases_is_left_as_it_is() -> None:
    app = Litestar([one_order])
    handler = app.asgi_handler
    serve_path_aliases(app)
    assert app.asgi_handler is handler
