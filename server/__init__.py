"""The livegrad server: FastAPI app, run manager, persistence, CLI.

May import: engine (its public names only), the web stack, the database.
"""
