"""The OpenAPI document at ``/schema/openapi.json`` and the pages beside it."""

from __future__ import annotations

from litestar import Response, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.status_codes import HTTP_404_NOT_FOUND

from wallet_api.problems import NotFound, problem_response

__all__ = ["openapi_config"]


async def _problem_for_not_found(response: Response[object]) -> Response[object]:
    # Litestar answers an unknown /schema/... path with an HTML page of its own.
    if response.status_code == HTTP_404_NOT_FOUND:
        return problem_response(NotFound("No such schema document."))
    return response


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Citizen Wallet API",
        version="0.1.0",
        description="Verifiable documents and social-benefit payouts for citizens, agencies and verifiers.",
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
        openapi_router=Router(
            "/schema", route_handlers=[], include_in_schema=False, after_request=_problem_for_not_found
        ),
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }
        ),
    )
