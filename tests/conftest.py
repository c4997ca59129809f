"""Shared pytest configuration for tests/engine, tests/server and tests/web."""
