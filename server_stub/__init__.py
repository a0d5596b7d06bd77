"""server_stub: a small NATS-compatible server enforcing operator mode."""
