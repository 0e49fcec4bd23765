"""Watching the service run: Prometheus metrics and structured, number-free logs."""
