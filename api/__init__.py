"""The web layer: JSON API under /api/v1, server-rendered pages, provider webhooks."""
