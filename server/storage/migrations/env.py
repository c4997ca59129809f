"""Alembic environment: runs migrations on the connection handed over by server.storage.db.migrate.

May import: alembic, server.storage.db.
"""

from alembic import context

from server.storage.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
