"""Small helpers shared by the foundation's tests."""

API = "/api/v1"

ORG = {
    "name": "Hospital San Roque",
    "country": "AR",
    "timezone": "America/Argentina/Salta",
    "languages": ["es", "qu"],
    "local_resources": {"text": "X-ray weekdays", "tags": ["x-ray"]},
}


def assert_problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    if code:
        assert body["type"].endswith("/" + code), body
    return body
