"""Persistence: the database's tables and migrations, all queries, and the writer thread."""
