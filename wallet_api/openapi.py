"""The OpenAPI document at ``/schema/openapi.json`` and the pages beside it.

Litestar writes the operations from the routes; :func:`document_contract` then adds, to
every operation, what a client developer needs and the framework cannot know:

* **who may call it**: the bearer scheme on every guarded operation, and the guards'
  docstrings (``wallet_api/auth/guards.py``) in its description; public ones say so;
* **every problem it can answer**, as ``application/problem+json`` responses per status
  listing their slugs: those its guards and its code raise (read from the code,
  ``wallet_api/openapi_problems.py``), and those the pipeline adds (a token that does not
  verify, body and parameter validation, idempotency keys, unavailable dependencies).
  Litestar's own 400 shape is replaced by ours.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.status_codes import HTTP_404_NOT_FOUND

from wallet_api.openapi_problems import ProblemDoc, problems_raised
from wallet_api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, NotFound, problem_response

__all__ = ["document_contract", "openapi_config", "operation_problems"]

BEARER = "bearer"
_DONE = "openapi_contract_written"

#: What any route may answer: a token that does not verify (even on a public route), a
#: dependency that does not answer, an error of ours.
_ALWAYS = {
    ProblemDoc(401, "unauthorized", "Authentication required"),
    ProblemDoc(503, "service-unavailable", "Temporarily unavailable"),
    ProblemDoc(500, "internal", "Internal server error"),
}
#: Text holding U+0000, in a parameter or a body, refused where PostgreSQL would (problems.py).
_NUL = ProblemDoc(400, "nul-character", "NUL in text")
_WITH_BODY = {
    ProblemDoc(400, "bad-request", "Bad request"),
    ProblemDoc(400, "json-too-deep", "JSON nested too deeply"),
    _NUL,
    ProblemDoc(413, "payload-too-large", "Request body too large"),
    ProblemDoc(415, "unsupported-media-type", "Unsupported media type"),
    ProblemDoc(422, "validation", "The request is not valid"),
}
_WITH_PARAMETERS = {ProblemDoc(422, "validation", "The request is not valid"), _NUL}
_WITH_PATH = {ProblemDoc(404, "not-found", "Not found")}
_IDEMPOTENT = {
    ProblemDoc(409, "idempotency-in-progress", "A request with this Idempotency-Key is in progress"),
    ProblemDoc(422, "idempotency-key-reuse", "Idempotency-Key reused for another request"),
    ProblemDoc(422, "idempotency-key-invalid", "Idempotency-Key is not valid"),
}
_PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details; branch on `type`, never on `title` or `detail`.",
    required=["type", "title", "status"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.URI, description=f"{PROBLEM_BASE}<slug>"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
        "request_id": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "key": Schema(type=OpenAPIType.STRING),
                    "source": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)


async def _with_contract(request: Request[Any, Any, Any]) -> None:
    # Reading every route's code takes a few seconds: done when the document is first asked
    # for, not at every process start.
    document_contract(request.app)


async def _problem_for_not_found(response: Response[object]) -> Response[object]:
    # Litestar answers an unknown /schema/... path with an HTML page of its own.
    if response.status_code == HTTP_404_NOT_FOUND:
        return problem_response(NotFound("No such schema document."))
    return response


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Citizen Wallet API",
        version="0.1.0",
        description=(
            "Verifiable documents and social-benefit payouts for citizens, agencies and verifiers. "
            "Every error is an RFC 9457 problem (`application/problem+json`); each operation lists "
            "who may call it and the problem types it can answer."
        ),
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
        openapi_router=Router(
            "/schema",
            route_handlers=[],
            include_in_schema=False,
            before_request=_with_contract,
            after_request=_problem_for_not_found,
        ),
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An access token from /v1/auth/sign-in, /v1/officers/sign-in or /oauth2/token.",
                ),
            },
        ),
    )


def operation_problems(handler: HTTPRouteHandler, method: str, path_params: bool) -> set[ProblemDoc]:
    """Every problem the operation can answer: its guards', its code's and the pipeline's."""
    found = set(_ALWAYS)
    for guard in handler.resolve_guards():
        found |= problems_raised(guard)
    found |= problems_raised(handler.fn)
    kwargs = handler.parsed_fn_signature.parameters
    if "data" in kwargs:
        found |= _WITH_BODY
    if len(kwargs) > 0:
        found |= _WITH_PARAMETERS
    if path_params:
        found |= _WITH_PATH
    if method == "POST":
        found |= _IDEMPOTENT
    return found


def _who(handler: HTTPRouteHandler) -> str:
    guards = handler.resolve_guards()
    if not guards:
        return "**Who may call**: anyone (no token needed)."
    lines = " ".join((g.__doc__ or g.__name__).strip().split("\n")[0] for g in guards)
    return f"**Who may call** (bearer token): {lines}"


def _responses(problems: set[ProblemDoc]) -> dict[str, OpenAPIResponse | Reference]:
    by_status: dict[int, list[ProblemDoc]] = defaultdict(list)
    for problem in sorted(problems):
        by_status[problem.status].append(problem)
    media = {PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))}
    return {
        str(status): OpenAPIResponse(
            description="; ".join(f"`{p.slug}`: {p.title}" for p in listed), content=dict(media)
        )
        for status, listed in by_status.items()
    }


def document_contract(app: Litestar) -> None:
    """Add who may call and the problem responses to every operation of the app's OpenAPI document (once)."""
    if app.state.get(_DONE):
        return
    app.state[_DONE] = True
    openapi = app.openapi_schema
    # Litestar fills the component schemas from the routes' types when it builds the document.
    if openapi.components.schemas is not None:
        openapi.components.schemas["Problem"] = _PROBLEM_SCHEMA
    for route in app.routes:
        path_item = (openapi.paths or {}).get(getattr(route, "path_format", "") or "/")
        if path_item is None:
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_include_in_schema():
                continue
            for method in sorted(handler.http_methods):
                operation: Operation | None = getattr(path_item, method.lower(), None)
                if operation is None:
                    continue
                if handler.resolve_guards():
                    operation.security = [{BEARER: []}]
                who = _who(handler)
                operation.description = f"{operation.description}\n\n{who}" if operation.description else who
                responses: dict[str, Any] = {
                    code: response
                    for code, response in (operation.responses or {}).items()
                    if not code.startswith(("4", "5"))  # Litestar's own error shapes
                }
                problems = operation_problems(handler, method, bool(route.path_parameters))
                responses.update(_responses(problems))
                operation.responses = responses
