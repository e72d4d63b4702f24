"""The route table's index (app.core.routing.RouteIndex) finds the route the walk finds.

For every route the app serves, a path of its own (each parameter filled in) and each of
its methods: the index takes the path to the same route as walking the table would, and
every API route is found through the index (not left to the walk). What the index does
not take in full (another method, a trailing slash, an unknown path) it leaves to the
walk, so the router's 404, 405 and redirect answer as before.
"""

import re

import pytest
from starlette.routing import BaseRoute, Match

from app.core.routing import RouteIndex
from app.main import create_app

_PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")


def _table() -> tuple[RouteIndex, list[BaseRoute]]:
    routes = create_app().router.routes
    index = routes[0]
    assert isinstance(index, RouteIndex)
    return index, list(routes[1:])


def _sample(path_format: str) -> str:
    def fill(m: re.Match[str]) -> str:
        return {"int": "7", "float": "7.5", "path": "a/b"}.get(m.group(2) or "", f"x_{m.group(1)}")

    return _PARAM.sub(fill, path_format)


def _walk(table: list[BaseRoute], scope: dict[str, object]) -> BaseRoute | None:
    for route in table:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def _scope(path: str, method: str, kind: str = "http") -> dict[str, object]:
    return {"type": kind, "path": path, "method": method, "root_path": "", "headers": []}


def test_the_index_finds_the_route_the_walk_finds() -> None:
    index, table = _table()
    checked = 0
    for route in table:
        path_format = getattr(route, "path_format", None)
        if path_format is None:
            continue
        kind = "websocket" if "/ws/" in path_format else "http"
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            scope = _scope(_sample(path_format), method, kind)
            walked = _walk(table, scope)
            match, child = index.matches(scope)
            if match is Match.FULL:
                assert child["app.route_index.chosen"] is walked, (method, path_format)
                checked += 1
            else:
                assert not path_format.startswith("/api/"), (method, path_format)
    assert checked > 140  # every API route, the probes and most pages


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/cases"),  # no route serves it: the walk answers 405
        ("GET", "/api/v1/cases/"),  # a trailing slash: the walk redirects or answers 404
        ("GET", "/api/v1/nothing-here"),
        ("GET", "/api/v1/cases/c1/nothing-here"),
    ],
)
def test_what_the_index_does_not_take_is_left_to_the_walk(method: str, path: str) -> None:
    index, _ = _table()
    assert index.matches(_scope(path, method))[0] is Match.NONE


async def test_the_router_still_answers_405_and_404(client, factory) -> None:
    h = factory.headers(await factory.make_user("admin"))
    gone = await client.delete("/api/v1/cases", headers=h)
    assert gone.status_code == 405
    assert set(gone.headers["allow"].split(", ")) == {"GET", "POST"}
    missing = await client.get("/api/v1/nothing-here", headers=h)
    assert missing.status_code == 404
    found = await client.get("/api/v1/me", headers=h)
    assert found.status_code == 200


def _endpoint(request: object) -> None:  # never called: only matched
    raise AssertionError


def test_mounts_hosts_and_path_parameters_are_found_as_the_walk_finds_them() -> None:
    """A table of the kinds the app does not hold today: the index must still agree."""
    from starlette.routing import Host, Mount, Route, Router

    table: list[BaseRoute] = [
        Mount("/api/v1/files", app=Router([Route("/{name}", _endpoint)])),
        Route("/api/v1/files/{name}", _endpoint),
        Mount("/api/v1/deep/down", app=Router([Route("/{name}", _endpoint)])),
        Route("/api/v1/docs/{rest:path}", _endpoint),
        Route("/api/{version}/things", _endpoint),
        Route("/api/v1/things", _endpoint),
        Host("other.example", app=Router([Route("/api/v1/things", _endpoint)])),
    ]
    index = RouteIndex(table)
    for path in (
        "/api/v1/files/a.pdf",
        "/api/v1/deep/down/a",
        "/api/v1/docs/a/b/c",
        "/api/v2/things",
        "/api/v1/things",
    ):
        scope = _scope(path, "GET")
        scope["headers"] = [(b"host", b"example.org")]
        walked = _walk(table, scope)
        match, child = index.matches(scope)
        assert walked is not None, path
        if match is Match.FULL:
            assert child["app.route_index.chosen"] is walked, path
        else:  # no route spells out this beginning: the walk takes it
            assert tuple(path.split("/")[1:4]) not in index.lists, path
    # The mount that comes first takes its paths, though a route after it spells them out.
    first = index.matches(_scope("/api/v1/files/a.pdf", "GET"))[1]["app.route_index.chosen"]
    assert first is table[0]


def test_the_index_names_no_url_and_leaves_it_to_the_routes() -> None:
    app = create_app()
    assert app.url_path_for("readyz") == "/readyz"
    assert app.url_path_for("me") == "/api/v1/me"
