"""The FastAPI app factory: the lifespan opens the DB engine, the Temporal client and the webhook
verifier; routers serve /api/v1 (JSON, api.routers.v1), the pages (api.routers.pages) and provider
webhooks."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client as TemporalClient
from swagger_ui_bundle import swagger_ui_path
from temporalio.contrib.pydantic import pydantic_data_converter

from api.auth import SessionMiddleware
from api.deps import current_client
from api.params import CleanText
from api.ratelimit import CheckLimiter
from api.security import SecurityHeadersMiddleware, docs_csp, script_hashes
from api.routers import pages, v1, webhooks
from api.services.accounts import Accounts
from api.services.availability import Portfolio
from api.services.billing import Billing
from api.services.checkout import Checkout
from api.services.destinations import DestinationChanges
from api.services.mailboxes import Mailboxes
from api.services.renewals import Renewals
from store.secrets import SecretBox
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from providers.paypal.webhook import WebhookVerifier
from settings import Settings, get_settings
from store.db import make_engine, make_sessionmaker

log = logging.getLogger("mailmarket.api")
STATIC = Path(__file__).resolve().parent.parent / "templates" / "static"
DOCS_URL, OAUTH2_REDIRECT_URL, SWAGGER_ASSETS = "/docs", "/docs/oauth2-redirect", "/static/swagger-ui"


def create_app(settings: Settings | None = None, temporal: TemporalClient | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.async_database_url)
        app.state.sessions = make_sessionmaker(engine)
        # Availability reads run outside a transaction: no BEGIN/ROLLBACK round trips per check.
        app.state.read_sessions = make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
        client = temporal or await TemporalClient.connect(
            settings.temporal_address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter)
        app.state.checkout = Checkout(settings, app.state.sessions, client)
        app.state.accounts = Accounts(settings, app.state.sessions, client)
        app.state.mailboxes = Mailboxes(app.state.sessions, client, SecretBox(settings.secrets_key.get_secret_value()))
        app.state.destinations = DestinationChanges(app.state.sessions, client,
                                                    settings.secrets_key.get_secret_value())
        app.state.renewals = Renewals(settings, app.state.sessions, client)
        app.state.billing = Billing(settings, app.state.sessions, client, app.state.checkout)
        app.state.verifier = WebhookVerifier(
            settings.paypal_webhook_id, settings.paypal_cert_hosts,
            max_age=timedelta(seconds=settings.paypal_webhook_max_age_seconds),
            max_ahead=timedelta(seconds=settings.paypal_webhook_max_ahead_seconds))
        try:
            yield
        finally:
            await app.state.verifier.aclose()
            await engine.dispose()

    # The API docs are served from our own copy of Swagger UI (swagger-ui-bundle-v2), never a CDN;
    # ReDoc is not offered, as no package ships it for us to serve.
    app = FastAPI(title="mailmarket", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  swagger_ui_oauth2_redirect_url=OAUTH2_REDIRECT_URL,
                  description="Email addresses in a portfolio of vanity domains: catalog, availability, "
                              "orders and PayPal checkout. Write calls need the X-CSRF-Token from /auth/session.")
    app.state.settings = settings
    app.state.portfolio = Portfolio(ttl=settings.portfolio_cache_seconds)
    app.state.limiter = CheckLimiter(settings.checks_per_minute_per_ip, settings.checks_per_minute_per_client,
                                     settings.trust_forwarded_for)
    app.add_middleware(SessionMiddleware, secret=settings.session_secret.get_secret_value(),
                       secure=settings.cookie_secure)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure,
                       docs_paths=(DOCS_URL, OAUTH2_REDIRECT_URL),
                       docs_policy=docs_csp(_docs_script_hashes(app)))

    @app.exception_handler(BusinessError)
    async def business_error(request: Request, exc: BusinessError):
        if request.url.path.startswith("/api/") or request.url.path.startswith("/webhooks/"):
            response = JSONResponse(exc.as_dict(), status_code=exc.status)
        else:
            response = await _error_page(request, exc)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "path")]
        field = ".".join(loc) or None
        message = first.get("msg", "The request is not valid.")
        if tuple(first.get("loc", ()))[:1] == ("path",):
            # a path naming what cannot exist (an id beyond the database's range, not a number) is not found
            error = refuse(Refusals.NOT_FOUND, field, what=field or "page")
        else:
            error = refuse(Refusals.REQUEST_INVALID, field, field_name=field or "request", detail=message)
        if request.url.path.startswith("/api/"):
            return JSONResponse(error.as_dict(), status_code=error.status)
        return await _error_page(request, error)

    # Refusals that Starlette raises itself (no such route, wrong method, a body that cannot be read)
    # answer like any other: {code, message, field} for the API, the error page for pages.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # FastAPI's 400 is a body it could not decode (not UTF-8): invalid like a body that is not JSON (422)
        status = 422 if exc.status_code == 400 else exc.status_code
        code = {422: "request_invalid", 404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "The request was refused."
        if request.url.path.startswith(("/api/", "/webhooks/")):
            response = JSONResponse({"code": code, "message": message, "field": None}, status_code=status)
        else:
            response = await _error_page(request, BusinessError(code, message, status=status))
        response.headers.update(exc.headers or {})
        return response

    # Text inputs are checked once, here, for the API and the pages. Webhooks carry the provider's
    # own text under its signature: a refusal there would only make PayPal retry the same event.
    for router in v1.routers:
        app.include_router(router, dependencies=[CleanText])
    app.include_router(webhooks.router)
    for router in pages.routers:
        app.include_router(router, dependencies=[CleanText])
    _add_docs(app)
    app.mount(SWAGGER_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _error_page(request: Request, exc: BusinessError):
    """The error page, showing who is signed in even when the refusal came before the handler's own
    look-up of the client (a path that is not valid, a text with a NUL)."""
    if not hasattr(request.state, "client") and "session" in request.scope.get("state", {}):
        await current_client(request)
    return pages.error_page(request, exc)


def _swagger_page(app: FastAPI) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=app.openapi_url or "", title=f"{app.title} - API docs",
                               swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                               swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
                               oauth2_redirect_url=OAUTH2_REDIRECT_URL, init_oauth=app.swagger_ui_init_oauth,
                               swagger_ui_parameters=app.swagger_ui_parameters)


def _add_docs(app: FastAPI) -> None:
    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _swagger_page(app)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:   # what browsers ask for on pages that name no icon
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def _docs_script_hashes(app: FastAPI) -> list[str]:
    """The inline scripts of the Swagger UI pages, rendered as FastAPI serves them (no root path)."""
    return (script_hashes(_swagger_page(app).body.decode())
            + script_hashes(get_swagger_ui_oauth2_redirect_html().body.decode()))
