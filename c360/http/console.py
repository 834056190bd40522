"""The relationship-manager console (issue 8): the bundled page at /console and, outside
production, the development sign-in endpoint ``POST /console/dev-token``; sign-in through the
bank's OpenID Connect provider is in :mod:`c360.http.oidc`.

The page is plain static files built from ``console/`` (``make console-build``) into
``console/dist/``; it talks only to the public ``/graphql`` API with the signed-in person's token.
"""

from __future__ import annotations

import logging
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from auth.policy import ROLES, Role
from auth.tokens import DevTokenRequest, issue_dev_token
from c360.http.oidc import ConsoleSignIn
from core.settings import Settings

log = logging.getLogger("c360.http.console")

CLAIMS = ("employee_id", "customer_id", "branch_id")
CLAIM_VALUE = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEV_TOKEN_TTL_S = 8 * 3600  # a working day


async def dev_token(request: Request, settings: Settings) -> JSONResponse:
    """A development token for the role and id picked on the sign-in form (not in production:
    the route is not even registered there)."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("role") not in {r.value for r in Role}:
        return JSONResponse({"error": "Unknown role."}, status_code=400)
    role = Role(body["role"])
    claims: dict[str, str] = {}
    for name in CLAIMS:
        value = body.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not CLAIM_VALUE.fullmatch(value):
            return JSONResponse({"error": f"Invalid {name}."}, status_code=400)
        claims[name] = value
    missing = [c for c in ROLES[role].requires_claims if c not in claims]
    if missing:
        return JSONResponse(
            {"error": f"The role {role} needs {', '.join(missing)}."}, status_code=400
        )
    subject = f"dev-{role.value}-{next(iter(claims.values()), 'any')}"
    token = issue_dev_token(
        settings, DevTokenRequest(role=role, subject=subject, ttl_s=DEV_TOKEN_TTL_S, **claims)
    )
    log.info("console development token issued: %s", subject)
    return JSONResponse({"token": token, "expiresIn": DEV_TOKEN_TTL_S})


async def _absent(_: Request) -> PlainTextResponse:
    return PlainTextResponse("Not Found", status_code=404)


async def _not_built(_: Request) -> PlainTextResponse:
    return PlainTextResponse(
        "The console is not built: run `make console-build` (npm ci && npm run build in console/).",
        status_code=503,
    )


async def _to_slash(_: Request) -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


def console_routes(settings: Settings, sign_in: ConsoleSignIn | None = None) -> list[BaseRoute]:
    """The page, the sign-in options it asks for, the development token endpoint (not in
    production) and, when OIDC is configured, the provider sign-in routes."""

    async def sign_in_options(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "oidc": sign_in is not None,
                "development": settings.is_development,
                "session": sign_in is not None and await sign_in.signed_in(request),
            }
        )

    routes: list[BaseRoute] = [Route("/console/sign-in-options", sign_in_options)]
    if sign_in is not None:
        routes.extend(sign_in.routes())
    if settings.is_development:

        async def endpoint(request: Request) -> JSONResponse:
            return await dev_token(request, settings)

        routes.append(Route("/console/dev-token", endpoint, methods=["POST"]))
    else:  # production: no development tokens, and a plain 404 (not the static files' 405)
        routes.append(Route("/console/dev-token", _absent, methods=["GET", "POST", "HEAD"]))
    routes.append(Route("/console", _to_slash))
    dist = settings.console_dist_dir
    if (dist / "index.html").is_file():
        routes.append(Mount("/console", StaticFiles(directory=dist, html=True)))
    else:
        routes.append(Route("/console/{rest:path}", _not_built))
    return routes
