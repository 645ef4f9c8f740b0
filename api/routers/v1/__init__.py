"""The JSON API under /api/v1, one module a domain, each with its OpenAPI tag; `routers` lists
them for api.app."""
from __future__ import annotations

from api.routers.v1 import (account, addresses, auth, cart, catalog, invoices, operator_billing, operator_payments,
                            orders, renewals, reserved)

routers = [auth.router, catalog.router, cart.router, orders.router, invoices.router, addresses.router,
           renewals.router, account.router, reserved.router, operator_payments.router, operator_billing.router]
