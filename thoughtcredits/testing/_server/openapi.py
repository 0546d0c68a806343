"""An OpenAPI 3.1 description of the credit endpoints exactly as the local server serves them
(``GET /_fake/openapi.json``), for users' own contract tests.

Built from the server's endpoint table (:mod:`.table`), not from the SDK's models.
"""

from __future__ import annotations

from typing import Final

from .schemas import ERROR, UUID, Schema, every, param
from .table import API_PATH, ENDPOINTS, Endpoint

__all__ = ["openapi"]


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS: Final = {
    "400": _json(ERROR, "invalid parameters or body; the message names the field"),
    "401": {"description": "missing or wrong bearer key (empty body)"},
    "404": _json(ERROR, "unknown client (strict mode), account or batch"),
    "413": _json(ERROR, "body too large"),
    "429": _json(
        every(
            error={"const": "rate_limit_exceeded"},
            message={"type": "string"},
            retryAfter={"type": "integer"},
        ),
        "rate limited; see Retry-After",
    ),
}


def _operation(endpoint: Endpoint) -> Schema:
    params = [param(name, "path", UUID) for name in endpoint.path_params]
    envelope = every(data=every(**{endpoint.operation: endpoint.payload}))
    result: Schema = {
        "operationId": endpoint.name,
        "parameters": [*params, *endpoint.query],
        "responses": {str(endpoint.status): _json(envelope, "success"), **_ERRORS},
    }
    if endpoint.body is not None:
        content = {"application/json": {"schema": endpoint.body}}
        result["requestBody"] = {"required": True, "content": content}
    return result


def openapi(base_url: str) -> Schema:
    """The OpenAPI 3.1 document of every endpoint in the table, served at ``base_url``."""
    paths: dict[str, dict[str, Schema]] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Thought Industries credits API (thoughtcredits fake server)",
            "version": "v2",
        },
        "servers": [{"url": f"{base_url}{API_PATH}"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
