"""What every page shares: the templates, rendering with the session's CSRF token and cart, the
error page (a refusal for want of signing in goes to the sign-in page and back), and the one-time
sentence a change leaves for the page it returns to."""
from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from core.errors import BusinessError

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[3] / "templates" / "pages"))


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("client", getattr(request.state, "client", None))
    context["csrf"] = request.state.session["csrf"]
    context["cart_size"] = len(request.state.session.get("cart", []))
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def error_page(request: Request, exc: BusinessError) -> HTMLResponse:
    if exc.code == "not_signed_in":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)  # type: ignore[return-value]
    return render(request, "error.html", status=exc.status, error=exc)


def back_with(request: Request, page: str, message: str) -> RedirectResponse:
    """After a change, back to the page (a reload then changes nothing), saying what was done. The
    sentence travels in the signed session, never in the URL: a link can't make the page say things."""
    request.state.session["done"] = message[:300]
    return RedirectResponse(page, status_code=303)


def said(request: Request) -> str:
    """What the last change said, shown once."""
    return str(request.state.session.pop("done", "") or "")


def safe_next(target: str) -> str:
    # only same-site paths: never an open redirect
    return target if target.startswith("/") and not target.startswith("//") else "/"
