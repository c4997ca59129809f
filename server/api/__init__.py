"""The REST and websocket routes under /api/v1, one module per resource.

May import: fastapi, server modules, engine's public names.
"""
