"""Activities: each one I/O step, idempotent and thin, calling store/ and providers/."""
