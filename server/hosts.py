"""Host names: which are loopback ones. Shared by the Host check and `livegrad serve`'s
refusal to serve a network address without a token.

May import: stdlib.
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1), with or without brackets."""
    name = (host or "").strip().lower().removeprefix("[").removesuffix("]")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
