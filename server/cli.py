"""The `livegrad` command: `serve` (the web server), `train` (headless) and `demo`.

Imports stay inside the commands, so that worker processes spawned by `serve` do not import
the engine before they set their thread count.
May import: stdlib, uvicorn, server modules, engine's public names.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="livegrad", description="A live deep-learning playground.")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the web server (SQLite in the data folder)")
    serve.add_argument("--host", default=None, help="default 127.0.0.1 (LIVEGRAD_HOST)")
    serve.add_argument("--port", type=int, default=None, help="default 8000 (LIVEGRAD_PORT)")
    serve.add_argument("--data-dir", default=None, help="default ./data (LIVEGRAD_DATA_DIR)")
    serve.add_argument("--allow-no-token", action="store_true", default=None,
                       help="serve a non-loopback host without an access token "
                       "(LIVEGRAD_ALLOW_NO_TOKEN=1); anyone who reaches it may run anything")
    train = sub.add_parser("train", help="train a run spec (JSON) headless and print metrics")
    train.add_argument("spec", help="path to a run spec JSON file")
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    train.add_argument("--json", action="store_true", help="print the final event as JSON")
    sub.add_parser("demo", help="train a 2-4-1 tanh network on xor")
    return p


def serve(host: str | None, port: int | None, data_dir: str | None,
          allow_no_token: bool | None = None) -> int:
    from server.hosts import is_loopback
    from server.settings import Settings

    overrides = {k: v for k, v in {"host": host, "port": port, "data_dir": data_dir,
                                   "allow_no_token": allow_no_token}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    refusal = unsafe(settings)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    import uvicorn

    from server.app import create_app
    from server.logs import log_config

    print(f"livegrad on http://{settings.host}:{settings.port} (data: {settings.data_dir})",
          file=sys.stderr)
    if not is_loopback(settings.host) and not settings.allowed_hosts:
        print("note: only loopback Host names are answered; list the names (or addresses) "
              "clients use in LIVEGRAD_ALLOWED_HOSTS", file=sys.stderr)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                ws_per_message_deflate=False, log_level="info", log_config=log_config())
    return 0


def unsafe(settings: Settings) -> str | None:
    """Why these settings must not serve (a non-loopback host without a token), or None."""
    from server.hosts import is_loopback

    if is_loopback(settings.host) or settings.access_token or settings.allow_no_token:
        return None
    return (f"refusing to serve {settings.host!r} without an access token: anyone on the "
            "network could start runs and read every run. Set LIVEGRAD_ACCESS_TOKEN (clients "
            "send 'Authorization: Bearer <token>'; the page asks for it), or serve 127.0.0.1, "
            "or pass --allow-no-token (LIVEGRAD_ALLOW_NO_TOKEN=1) if it is on purpose.")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.host, args.port, args.data_dir, args.allow_no_token)
    from engine import example_spec, train_command

    if args.command == "train":
        return train_command(args.spec, quiet=args.quiet, as_json=args.json)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.json"
        path.write_text(example_spec(), encoding="utf-8")
        print(f"training the demo spec:\n{example_spec()}", file=sys.stderr)
        return train_command(str(path))


if __name__ == "__main__":
    raise SystemExit(main())
