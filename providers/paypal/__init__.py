"""PayPal REST: Orders v2 checkout and capture, and signed webhooks."""
