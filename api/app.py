"""The FastAPI app factory: the lifespan opens the DB engine, the Temporal client and the webhook
verifier; routers serve /api/v1 (JSON), the pages and provider webhooks."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client as TemporalClient
from temporalio.contrib.pydantic import pydantic_data_converter

from api.auth import SessionMiddleware
from api.ratelimit import CheckLimiter
from api.routers import pages, v1, webhooks
from api.services.availability import Portfolio
from api.services.billing import Billing
from api.services.checkout import Checkout
from api.services.destinations import DestinationChanges
from api.services.mailboxes import Mailboxes
from api.services.renewals import Renewals
from store.secrets import SecretBox
from core.errors import BusinessError
from providers.paypal.webhook import WebhookVerifier
from settings import Settings, get_settings
from store.db import make_engine, make_sessionmaker

log = logging.getLogger("mailmarket.api")
STATIC = Path(__file__).resolve().parent.parent / "templates" / "static"


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

    app = FastAPI(title="mailmarket", version="0.1.0", lifespan=lifespan,
                  description="Email addresses in a portfolio of vanity domains: catalog, availability, "
                              "orders and PayPal checkout. Write calls need the X-CSRF-Token from /auth/session.")
    app.state.settings = settings
    app.state.portfolio = Portfolio(ttl=settings.portfolio_cache_seconds)
    app.state.limiter = CheckLimiter(settings.checks_per_minute_per_ip, settings.checks_per_minute_per_client,
                                     settings.trust_forwarded_for)
    app.add_middleware(SessionMiddleware, secret=settings.session_secret.get_secret_value(),
                       secure=settings.cookie_secure)

    @app.exception_handler(BusinessError)
    async def business_error(request: Request, exc: BusinessError):
        if request.url.path.startswith("/api/") or request.url.path.startswith("/webhooks/"):
            response = JSONResponse(exc.as_dict(), status_code=exc.status)
        else:
            response = pages.error_page(request, exc)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "path")]
        field = ".".join(loc) or None
        message = first.get("msg", "The request is not valid.")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"code": "request_invalid", "message": f"{field or 'request'}: {message}",
                                 "field": field}, status_code=422)
        return pages.error_page(request, BusinessError("request_invalid", f"{field or 'form'}: {message}", field, 400))

    app.include_router(v1.router)
    app.include_router(webhooks.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
