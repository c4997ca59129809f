"""Runs on the server: the manager that owns their states, the hub that fans their events
out, the clients' outboxes and the metric series."""
