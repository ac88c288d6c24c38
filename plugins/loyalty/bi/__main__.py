"""``python -m loyalty.bi`` (``make bi``, ``make bi-export``): Superset with the loyalty dashboards.

    serve    install, set up, then serve in the foreground until Ctrl-C (make bi)
    start    install, set up, then serve in the background (make bi-start); stop: make bi-stop
    setup    install and set up only: the dashboards of bi/dashboards imported, users kept
    install  Superset's virtualenv only
    status   whether the background server runs, and where
    export   every dashboard of Superset's metadata DB back into bi/dashboards (make bi-export)

Timings go to stderr, the URL and login to stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from loyalty.bi import install, server
from loyalty.bi.settings import BiSettings


def _prepare(settings: BiSettings) -> server.Login:
    t0 = time.monotonic()
    installed = install.ensure_venv(settings)
    print(f"Superset's virtualenv {settings.venv}: " + (f"installed in {installed:.0f} s" if installed else "up to date"),
          file=sys.stderr)
    login = server.prepare_home(settings)
    t1 = time.monotonic()
    summary = server.setup(settings, login)
    print(f"set up in {time.monotonic() - t1:.1f} s (admin {summary['admin']}; imported {summary['imported']}; "
          f"serving file {summary['serving']}, night {summary['night']}); total {time.monotonic() - t0:.0f} s",
          file=sys.stderr)
    return login


def _banner(settings: BiSettings, login: server.Login) -> None:
    print(f"\nSuperset: {settings.url}/dashboard/list/\nLogin:    {login.describe(settings)}\n"
          f"State:    {settings.home} (metadata DB, secret key, log)\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loyalty.bi", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n")[1])
    p.add_argument("command", choices=["serve", "start", "stop", "status", "setup", "install", "export"])
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = BiSettings.from_env()
    if args.command == "install":
        seconds = install.ensure_venv(settings)
        print(f"{settings.venv}: " + (f"installed in {seconds:.0f} s" if seconds else "up to date"))
    elif args.command == "setup":
        _banner(settings, _prepare(settings))
    elif args.command == "serve":
        login = _prepare(settings)
        _banner(settings, login)
        print("Serving in the foreground: Ctrl-C stops it (`make bi-start` runs it in the background).", flush=True)
        return server.serve(settings)
    elif args.command == "start":
        login = _prepare(settings)
        pid, seconds = server.start(settings)
        print(f"started (pid {pid}) in {seconds:.1f} s; log {settings.log_file}; stop: make bi-stop", file=sys.stderr)
        _banner(settings, login)
    elif args.command == "stop":
        print("stopped" if server.stop(settings) else "Superset was not running (no live pid in "
              f"{settings.pid_file})")
    elif args.command == "status":
        running = server.running_pid(settings)
        print(f"running, pid {running}, {settings.url}" if running else "not running")
        return 0 if running else 1
    elif args.command == "export":
        if not install.is_installed(settings):
            print("Superset is not installed here: run `make bi` first", file=sys.stderr)
            return 1
        result = server.export(settings)
        print(f"exported {result['exported']} to {result['to']}; review with `git diff {settings.bundle}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
