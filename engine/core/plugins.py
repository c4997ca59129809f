"""Plugins: modules that register families, probes, layers, data sets or events when imported.

A server names them in its settings (LIVEGRAD_PLUGINS) and imports them in its own process
and in every worker, before any run is checked, so that a spec naming a plugin's family or
probe is understood on both sides. A plugin is Python code the operator installed, never
something a spec or a request can name.
May import: stdlib.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

_LOADED: list[str] = []


class PluginError(RuntimeError):
    """A plugin module that cannot be imported: its name and the reason."""


def load_plugins(modules: Iterable[str]) -> list[str]:
    """Import each module once (in order); returns every plugin loaded so far."""
    for name in modules:
        if name in _LOADED:
            continue
        try:
            importlib.import_module(name)
        except Exception as exc:  # any import failure: say which plugin and why
            raise PluginError(f"plugin {name!r} could not be loaded: "
                              f"{type(exc).__name__}: {exc}") from exc
        _LOADED.append(name)
    return list(_LOADED)
