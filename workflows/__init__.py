"""Deterministic Temporal workflows: one per order (payment) and one per address (its whole life)."""
