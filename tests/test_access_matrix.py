import importlib
import pkgutil

import pytest

import tests
from tests.matrix_support import PRINCIPALS, Row, make_world


def _rows() -> list[Row]:
    rows: list[Row] = []
    for info in pkgutil.iter_modules(tests.__path__):
        if info.ispkg:
            try:
                mod = importlib.import_module(f"tests.{info.name}.matrix")
            except ModuleNotFoundError:
                continue
            rows.extend(mod.ROWS)
    return rows


ROWS = _rows()


def test_every_route_with_an_id_is_in_the_matrix():
    from app.main import create_app

    paths = create_app().openapi()["paths"]
    routes = {(m.upper(), path) for path, ops in paths.items() if "{" in path for m in ops}
    covered = {(r.method, r.path) for r in ROWS}
    assert routes - covered == set(), "routes with ids missing from the access matrix"
    assert covered - routes == set(), "matrix rows for routes that do not exist"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.method} {r.path}" for r in ROWS])
async def test_access(row: Row, client, factory):
    world = await make_world(factory)
    got = {}
    for who in PRINCIPALS:
        url, body = await row.setup(world)
        kw = dict(row.request_kw)
        headers = {**world.headers(who), **kw.pop("headers", {})}
        if body is not None:
            kw["json"] = body
        r = await client.request(row.method, url, headers=headers, **kw)
        got[who] = r.status_code
        if r.status_code >= 400 and "/fhir/" in url:  # FHIR's errors: an OperationOutcome
            assert r.headers["content-type"].startswith("application/fhir+json"), r.text
            assert r.json()["resourceType"] == "OperationOutcome"
        elif r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text
    assert got == row.expect
