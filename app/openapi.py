"""The OpenAPI document as a partner's tools read it: every error as problem+json, the
headers the server reads and sends, one stable name per operation and per schema, the
OAuth 2 flows with their scopes, and the webhooks the service sends.

FastAPI writes the routes' parts; this module adds what the shared machinery does on
every route (the Idempotency-Key guard, conditional requests, the request id) so the
document says what the server enforces, and no route has to repeat it.
"""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.errors import PROBLEM, Problem
from app.core.principal import Scope
from app.core.routing import operation_id
from app.events.kinds import CATALOG
from app.ops.router import PROBES

SCHEME = "oauth2"
TOKEN_URL = "/api/v1/auth/token"

_IMPLIED = {
    "400": "Malformed body or invalid cursor",
    "401": "No valid access token",
    "409": "A request with this Idempotency-Key is still in flight",
    "413": "Body too large",
    "415": "Body is not JSON",
    "422": "Validation failed (or Idempotency-Key reused with another body)",
    "429": "Too many requests: over the caller's rate limit (see RateLimit, Retry-After)",
    "500": "Internal error",
}

_STR = {"type": "string"}
REQUEST_ID = {
    "description": "The request's id (the caller's X-Request-ID, or one made for it).",
    "schema": _STR,
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Send the same key with the same body within 24 h to get the first answer again"
        " (same status and body, `Idempotent-Replayed: true`) without the work being done"
        " twice; another body with the same key is 422, a duplicate still in flight 409."
        ' Quoted (`"k"`, as a Structured Field string) or bare, it is the same key.'
    ),
    "schema": {"type": "string", "maxLength": 255},
    "example": "3f1c9a6e-7c1d-4e0b-9a53-2b0f6d7f1e21",
}
X_REQUEST_ID_PARAM = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": (
        "Your id for this request; returned, logged and put in problem bodies. One that is"
        " not 1-128 of `A-Za-z0-9._:@/+=-` is replaced by a fresh id (never refused)."
    ),
    "schema": {"type": "string"},
}
_HEADERS_BY_STATUS = {
    "201": {"Location": {"description": "The new resource's URL.", "schema": _STR}},
    "429": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    "503": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
}
_NOT_MODIFIED = "Not modified: the ETag you sent as If-None-Match is current (no body)."
# The general rate limit (app.core.ratelimit), in draft-ietf-httpapi-ratelimit-headers-10's
# fields, on every answer but the probes'.
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": "The caller's quota: `q` requests per `w` seconds.",
        "schema": _STR,
        "example": '"default";q=1200;w=60',
    },
    "RateLimit": {
        "description": "What is left: `r` more requests, the window ends in `t` seconds.",
        "schema": _STR,
        "example": '"default";r=1187;t=42',
    },
}
_ETAG = {
    "ETag": {"description": "The representation's version (send it as If-Match).", "schema": _STR}
}


unique_id = operation_id  # the routers name their operations (app.core.routing)


def _scopes_of(dependant: Dependant) -> set[Scope]:
    found: set[Scope] = set()
    for sub in dependant.dependencies:
        scope = getattr(sub.call, "scope", None)
        if isinstance(scope, Scope):
            found.add(scope)
        found |= _scopes_of(sub)
    return found


def _clean_name(name: str) -> str:
    """`Page_OrganizationRead_` -> `OrganizationPage`-style names a client generator keeps."""
    m = re.fullmatch(r"Page_(\w+?)_", name)
    if m:
        inner = m.group(1)
        return (inner[:-4] if inner.endswith("Read") else inner) + "Page"
    m = re.fullmatch(r"Body_(\w+)", name)  # a form's fields: `Body_token` -> `TokenForm`
    if m:
        return "".join(w.capitalize() for w in m.group(1).split("_")) + "Form"
    return name


def _rename_components(schema: dict[str, Any]) -> None:
    comps = schema.get("components", {}).get("schemas", {})
    renames = {old: _clean_name(old) for old in comps if _clean_name(old) != old}
    renames = {o: n for o, n in renames.items() if n not in comps}
    if not renames:
        return
    for old, new in renames.items():
        comps[new] = comps.pop(old)
        comps[new]["title"] = new

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                target = ref.rsplit("/", 1)[1]
                if target in renames:
                    node["$ref"] = "#/components/schemas/" + renames[target]
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        return node

    walk(schema)


NO_NUL = "^[^\\u0000]*$"
NO_NUL_NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def _free_text(node: dict[str, Any]) -> bool:
    return not any(k in node for k in ("pattern", "format", "enum", "const"))


def _state_text_rules(schema: dict[str, Any]) -> None:
    """Two rules every text obeys, stated where it is free text: no NUL (U+0000) anywhere
    (app.core.routing.refuse_nul, RequestBody), and a required body text holds more than
    whitespace (bodies are trimmed before their length is checked)."""
    for item in schema.get("paths", {}).values():
        for op in item.values():
            for p in op.get("parameters", []):
                s = p.get("schema", {})
                if p.get("in") in ("query", "path") and _free_text(s):
                    if s.get("type") == "string" or any(
                        a.get("type") == "string" for a in s.get("anyOf", [])
                    ):
                        s["pattern"] = NO_NUL
    _state_body_text(schema)


def _state_body_text(schema: dict[str, Any]) -> None:
    bodies = {
        ref.rsplit("/", 1)[1]
        for item in schema.get("paths", {}).values()
        for op in item.values()
        for media in op.get("requestBody", {}).get("content", {}).values()
        if isinstance(ref := media.get("schema", {}).get("$ref"), str)
    }
    comps = schema.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in seen and name in comps:
                    seen.add(name)
                    walk(comps[name])
            if node.get("type") == "string" and _free_text(node):
                node["pattern"] = NO_NUL_NOT_BLANK if node.get("minLength") else NO_NUL
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for name in sorted(bodies):
        seen.add(name)
        walk(comps.get(name, {}))


def _implied_errors(op: dict[str, Any], limited: bool) -> list[str]:
    """Errors the shared machinery can give on any route, documented where they apply."""
    codes = ["500", "429"] if limited else ["500"]
    params = {p.get("name") for p in op.get("parameters", [])}
    if op.get("requestBody"):
        codes += ["400", "413", "415", "422"]
    if "cursor" in params:
        codes.append("400")  # a tampered cursor
    if params:
        codes.append("422")
    if op.get("security"):
        codes.append("401")
    return codes


def _error_content(responses: dict[str, Any]) -> dict[str, Any] | None:
    """The error body a route declares in a type of its own (the FHIR routes' OperationOutcome
    as application/fhir+json): then every error of the route, implied ones too, has it."""
    for code, resp in responses.items():
        content = resp.get("content") or {}
        if code.startswith(("4", "5")) and set(content) - {PROBLEM, "application/json"}:
            return {k: v for k, v in content.items() if k != "application/json"}
    return None


def _webhooks() -> dict[str, Any]:
    """OpenAPI 3.1 `webhooks`: what the service POSTs to a subscriber, per event kind."""
    signed = {
        name: {"in": "header", "name": name, "required": True, "schema": _STR, "description": d}
        for name, d in (
            ("webhook-id", "The delivery's id: the same on every retry (deduplicate on it)."),
            ("webhook-timestamp", "Unix seconds when this attempt was signed."),
            ("webhook-signature", "`v1,<base64 HMAC-SHA256>` (Standard Webhooks)."),
        )
    }
    out: dict[str, Any] = {}
    for kind, (says, keys) in CATALOG.items():
        data_props: dict[str, Any] = {
            "event_id": {"type": "string", "example": "evt_1042"},
            "resource_type": _STR,
            "resource_id": _STR,
            "organization_id": _STR,
            **{k: _STR if k != "seq" and k != "version" else {"type": "integer"} for k in keys},
        }
        out[kind.value] = {
            "post": {
                "operationId": "webhook_" + kind.value.replace(".", "_"),
                "summary": says,
                "description": (
                    f"{says} Sent to endpoints subscribed to `{kind.value}` whose owner may"
                    " see the resource; retried with backoff until a 2xx. Thin: ids and"
                    " statuses only; read the resource for the rest."
                ),
                "parameters": list(signed.values()),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["type", "timestamp", "data"],
                                "properties": {
                                    "type": {"type": "string", "const": kind.value},
                                    "timestamp": {"type": "string", "format": "date-time"},
                                    "data": {
                                        "type": "object",
                                        "required": ["event_id", "resource_type", "resource_id"],
                                        "properties": data_props,
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "Received; any 2xx ends the retries."},
                    "410": {"description": "Gone: the endpoint is disabled."},
                },
            }
        }
    return out


def build(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        servers=[{"url": "/", "description": "This deployment (the host serving this file)."}],
    )
    comps = schema.setdefault("components", {})
    schemas = comps.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for defn in problem.pop("$defs", {}).items():
        schemas.setdefault(*defn)
    schemas.setdefault("Problem", problem)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _security(schema, app)
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, item in schema.get("paths", {}).items():
        limited = path not in PROBES
        for method, op in item.items():
            params = op.setdefault("parameters", [])
            names = {p["name"].lower() for p in params if p.get("in") == "header"}
            if method == "post" and "idempotency-key" not in names:
                params.append(IDEMPOTENCY_KEY)  # the guard on every POST (app.core.routing)
            if method == "post":
                for code in ("409", "422"):
                    op.setdefault("responses", {}).setdefault(code, {"description": _IMPLIED[code]})
            params.append(X_REQUEST_ID_PARAM)
            responses = op.setdefault("responses", {})
            if "428" in responses:  # If-Match is not optional where its absence is 428
                for p in params:
                    if p.get("in") == "header" and p["name"].lower() == "if-match":
                        p["required"] = True
                        p["schema"] = {"type": "string", "title": "If-Match"}
            conditional = bool(names & {"if-match", "if-none-match"})
            if method == "get" and "if-none-match" in names:  # app.core.conditional.answer_read
                responses.setdefault("304", {"description": _NOT_MODIFIED, "headers": dict(_ETAG)})
            for code in _implied_errors(op, limited):
                responses.setdefault(code, {"description": _IMPLIED[code]})
            errors = _error_content(responses) or {PROBLEM: {"schema": ref}}
            for code, resp in responses.items():
                if code.startswith(("4", "5")):
                    resp["content"] = errors
                headers = resp.setdefault("headers", {})
                headers.setdefault("X-Request-ID", REQUEST_ID)
                if limited:
                    for name, h in RATE_LIMIT_HEADERS.items():
                        headers.setdefault(name, h)
                for name, h in _HEADERS_BY_STATUS.get(code, {}).items():
                    headers.setdefault(name, h)
                if conditional and code.startswith("2"):
                    headers.update({k: v for k, v in _ETAG.items() if k not in headers})
    _rename_components(schema)
    _state_text_rules(schema)
    schema["webhooks"] = _webhooks()
    app.openapi_schema = schema
    return schema


def _security(schema: dict[str, Any], app: FastAPI) -> None:
    """One OAuth 2 scheme with both flows and every scope; each operation lists the scope
    an API client's token needs (users act by their role)."""
    scopes = {
        Scope.cases_read.value: "Read the facility's cases, notes, people and facilities.",
        Scope.cases_write.value: "Submit, change and close the facility's cases.",
        Scope.rounds_read.value: "Read rounds, occurrences and agendas.",
        Scope.rounds_write.value: "Create and change rounds.",
        Scope.webhooks_manage.value: "Subscribe to events and manage deliveries.",
    }
    comps = schema.setdefault("components", {})
    schemes = comps.setdefault("securitySchemes", {})
    schemes.pop("OAuth2PasswordBearer", None)
    schemes[SCHEME] = {
        "type": "oauth2",
        "description": (
            "Partner apps use client credentials (HTTP Basic or form); people sign in with"
            " the password flow. Tokens are bearer JWTs; RFC 8414 metadata at"
            " /.well-known/oauth-authorization-server."
        ),
        "flows": {
            "clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": scopes},
            "password": {"tokenUrl": TOKEN_URL, "refreshUrl": TOKEN_URL, "scopes": scopes},
        },
    }
    needed = {
        (rc.path_format, m.lower()): sorted(s.value for s in _scopes_of(rc.dependant))
        for rc in iter_route_contexts(app.routes)
        if isinstance(rc.original_route, APIRoute)
        for m in rc.methods or ()
    }
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            reqs = op.get("security")
            if not reqs:
                continue
            new = []
            for req in reqs:
                if "OAuth2PasswordBearer" in req:
                    new.append({SCHEME: needed.get((path, method), [])})
                else:
                    new.append(req)
            op["security"] = new
