"""Outgoing email: a real SMTP client, and an SMTP sink with a viewer for dev and tests."""
