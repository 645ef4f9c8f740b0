"""Request-side services: validate, write what the request owns, and say which workflow to start."""
