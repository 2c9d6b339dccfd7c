"""The API's documentation, for logged-in users only (issue 11, finding 9).

Any role may read it: readers script the reading API too, and the schema shows route shapes,
not data; every route still checks its own role. Anonymous callers get 401 (a browser is
sent to the login page first)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.deps import CurrentUser

router = APIRouter(include_in_schema=False)
# Swagger UI's assets: the npm package swagger-ui-dist (package.json), installed with htmx by
# `npm ci` and mounted here by app.main, so /docs works without a network (no CDN).
SWAGGER_UI_PATH = "/static/vendor/swagger-ui"


@router.get("/openapi.json")
def openapi_schema(request: Request, user: CurrentUser) -> dict[str, Any]:
    """The OpenAPI schema of the whole API."""
    schema: dict[str, Any] = request.app.openapi()
    return with_domain_errors(schema)


def with_domain_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """A 422 is either FastAPI's list of field errors or one message from a domain check
    (``app.errors.Invalid``: "dataset 'x' is real: …"): say so in the 422 schema."""
    error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
    if error is not None:
        listed = {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        error["properties"]["detail"] = {
            "anyOf": [listed, {"type": "string"}],
            "title": "Detail",
            "description": "the fields that failed validation, or one message naming the "
            "item and the reason",
        }
    return schema


@router.get("/docs")
def swagger_ui(request: Request, user: CurrentUser) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="lungsign API",
        swagger_js_url=f"{SWAGGER_UI_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI_PATH}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from validator.swagger.io
    )
