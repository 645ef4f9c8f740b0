"""Server-rendered pages, one module a screen's worth; `routers` lists them for api.app."""
from __future__ import annotations

from api.routers.pages import (addresses, auth, cart, catalog, invoices, mailbox, operator_billing, operator_mail,
                               operator_payments, orders, renewals, reserved)
from api.routers.pages.common import error_page, render

routers = [catalog.router, cart.router, orders.router, invoices.router, renewals.router, addresses.router,
           mailbox.router, auth.router, reserved.router, operator_payments.router, operator_billing.router,
           operator_mail.router]

__all__ = ["error_page", "render", "routers"]
