"""The counselor dashboard: server-rendered pages on the same services and consent rules."""
