"""Logging for `livegrad serve`: uvicorn's own configuration, with access tokens redacted.

uvicorn prints each request's path with its query string (the access log, and websocket
handshakes on "uvicorn.error"): a `?token=` there would end up in every log file. The
filter replaces its value with `***` in the message and its arguments, on every handler.
May import: stdlib, uvicorn.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

TOKEN = re.compile(r"([?&;](?:access_)?token=)[^&;#\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    return TOKEN.sub(r"\1***", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration, each handler filtered by RedactTokens."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": f"{__name__}.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config
