"""Enom reseller API: registration expiry and extensions for the portfolio's domains."""
