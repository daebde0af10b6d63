"""`kiosk`: start the kiosk app on this device.

    kiosk --data-dir /var/lib/qualivilles-kiosk --server https://avis.ville.fr --enrol-code CODE

The enrolment code (printed by `sync-server enrol-device`) is used once; afterwards the device
token kept in the data directory is enough. Without a server the kiosk still collects answers.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="where the kiosk keeps its SQLite file and settings",
    )
    parser.add_argument("--server", help="sync server URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--enrol-code", help="one-time code from `sync-server enrol-device`")
    parser.add_argument("--size", default="1280x800", help="window size WIDTHxHEIGHT")
    parser.add_argument(
        "--fullscreen",
        action="store_true",
        help="full screen without decorations (production kiosks)",
    )
    parser.add_argument(
        "--sync-interval",
        type=float,
        default=60.0,
        help="seconds between two syncs when nothing happens",
    )
    parser.add_argument(
        "--mode",
        choices=("kiosk", "tablet"),
        help="visitor kiosk or agent tablet (default: as enrolled, else kiosk)",
    )
    parser.add_argument(
        "--staff-pin",
        metavar="PIN",
        help="save this kiosk's staff PIN (4 to 8 digits, '-' reads it from "
        "standard input) and exit; a PIN from the server takes precedence",
    )
    return parser


def _prepare_kivy(data_dir: Path, size: str, fullscreen: bool) -> None:
    """Kivy reads its environment and config at first import: set them before that."""
    os.environ.setdefault("KIVY_HOME", str(data_dir / "kivy"))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    width, height = (int(part) for part in size.lower().split("x"))
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("kivy", "exit_on_escape", "0")  # no way out by keyboard for a visitor
    Config.set("input", "mouse", "mouse,disable_multitouch")


def _save_staff_pin(data_dir: Path, pin: str) -> int:
    from kiosk.core.staff_pin import InvalidPin
    from kiosk.runtime import save_staff_pin

    if pin == "-":
        pin = sys.stdin.readline().strip()
    try:
        save_staff_pin(data_dir, pin)
    except InvalidPin as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 2
    print("staff PIN saved (hashed) in", data_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Kivy routes Python logging to its own console handler; HTTP chatter stays out of it.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    data_dir: Path = args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.staff_pin is not None:
        return _save_staff_pin(data_dir, args.staff_pin)
    _prepare_kivy(data_dir, args.size, args.fullscreen)

    from kiosk.runtime import device_mode

    if device_mode(data_dir, args.mode) == "tablet":
        return _run_agent(args)

    from kiosk.app import KioskApp
    from kiosk.runtime import open_kiosk

    runtime = open_kiosk(
        data_dir,
        server_url=args.server,
        enrol_code=args.enrol_code,
        sync_interval=args.sync_interval,
    )
    if runtime.recovered_partials:
        logging.info("kept %d interrupted answers as partial", runtime.recovered_partials)
    app = KioskApp(
        runtime.session,
        worker=runtime.worker,
        config_source=runtime.current_desk,
        store=runtime.store,
    )
    runtime.reports.listeners.append(app.on_sync_report)
    try:
        app.run()
    finally:
        runtime.close()
    return 0


def _run_agent(args: argparse.Namespace) -> int:
    """The agent tablet: the waiting queue, on the same store and sync worker as a kiosk."""
    from kiosk.agent_app import AgentApp
    from kiosk.runtime import open_agent

    runtime = open_agent(
        args.data_dir,
        server_url=args.server,
        enrol_code=args.enrol_code,
        sync_interval=args.sync_interval,
    )
    app = AgentApp(
        runtime.queue,
        desk=runtime.current_desk(),
        credentials=runtime.store.credentials,
        desk_source=runtime.current_desk,
        worker=runtime.worker,
        store=runtime.store,
    )
    runtime.reports.listeners.append(app.on_sync_report)
    try:
        app.run()
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
