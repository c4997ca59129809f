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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="livegrad", description="A live deep-learning playground.")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the web server (SQLite in the data folder)")
    serve.add_argument("--host", default=None, help="default 127.0.0.1 (LIVEGRAD_HOST)")
    serve.add_argument("--port", type=int, default=None, help="default 8000 (LIVEGRAD_PORT)")
    serve.add_argument("--data-dir", default=None, help="default ./data (LIVEGRAD_DATA_DIR)")
    train = sub.add_parser("train", help="train a run spec (JSON) headless and print metrics")
    train.add_argument("spec", help="path to a run spec JSON file")
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    train.add_argument("--json", action="store_true", help="print the final event as JSON")
    sub.add_parser("demo", help="train the course's 2-4-1 tanh network on xor")
    return p


def serve(host: str | None, port: int | None, data_dir: str | None) -> int:
    import uvicorn

    from server.app import create_app
    from server.settings import Settings

    overrides = {k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items()
                 if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    print(f"livegrad on http://{settings.host}:{settings.port} (data: {settings.data_dir})",
          file=sys.stderr)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                ws_per_message_deflate=False, log_level="info")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.host, args.port, args.data_dir)
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
