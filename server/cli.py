"""The `livegrad` command: `serve` (the web server), `train` (headless) and `demo`.

Imports stay inside the commands, so that worker processes spawned by `serve` do not import
the engine before they set their thread count.
May import: stdlib, uvicorn, server modules, engine's public names.
"""

from __future__ import annotations

import argparse
import sys
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
    sub.add_parser("demo", help="train the course's 2-2-1 sigmoid network on xor")
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


def train(spec_text: str, *, quiet: bool, as_json: bool) -> int:
    from pydantic import ValidationError

    from engine import DeviceError, RunSpec, SpecError, Trainer

    try:
        trainer = Trainer(RunSpec.model_validate_json(spec_text))
    except (ValidationError, SpecError, DeviceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not quiet:
        trainer.subscribe(lambda ev: print(f"epoch {ev.epoch} step {ev.step} "
                                           f"test loss {getattr(ev, 'test_loss', 0):.4f}",
                                           file=sys.stderr), types={"eval_completed"})
    end = trainer.run()
    if as_json:
        print(end.model_dump_json(indent=2))
    else:
        print(f"{end.type} after {end.step} steps ({end.epoch} epochs, {end.t:.2f} s)")
        for name, value in getattr(end, "metrics", {}).items():
            print(f"  {name:<15} {value:.4f}")
        if end.type == "run_failed":
            print(f"  reason: {getattr(end, 'reason', '')}")
    return 0 if end.type == "run_completed" else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.host, args.port, args.data_dir)
    if args.command == "train":
        try:
            text = Path(args.spec).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"error: {args.spec}: {exc}", file=sys.stderr)
            return 2
        return train(text, quiet=args.quiet, as_json=args.json)
    from engine import presets

    spec = presets()[0]["spec"]
    print(f"training the demo spec:\n{spec.model_dump_json(indent=2)}", file=sys.stderr)
    return train(spec.model_dump_json(), quiet=False, as_json=False)


if __name__ == "__main__":
    raise SystemExit(main())
