"""The ``otel-taskmaster`` command."""
