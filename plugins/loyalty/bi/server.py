"""Superset's state, its set-up (the dashboards imported), and the server in the foreground or the
background.

State, in ``LOYALTY_BI_HOME`` (``<data>/bi``, mode 0700), never in the repository: the secret key
(generated once), the admin password when none is given (generated once; only its first set-up
prints it), the metadata DB, the font files, the server's log and pid file.

The server is gunicorn (one worker, eight threads) on ``LOYALTY_BI_HOST:LOYALTY_BI_PORT``
(127.0.0.1:8088). Each chart query opens the serving file read-only and closes it (Superset's
NullPool), so a night published while it runs shows on the next refresh, without a restart.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from loyalty.bi.settings import BI_DIR, BiSettings

log = logging.getLogger(__name__)
ASSETS_SCRIPT = BI_DIR / "assets.py"


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (created 0600, never world-readable in between)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


@dataclass(frozen=True)
class Login:
    user: str
    password: str
    source: str  # "env", "generated" (new: print it once) or "file" (generated at an earlier set-up)

    def describe(self, settings: BiSettings) -> str:
        if self.source == "env":
            return f"user {self.user}, password: the value of LOYALTY_BI_ADMIN_PASSWORD"
        if self.source == "generated":
            return (f"user {self.user}, password {self.password}  (generated; shown this once, kept in "
                    f"{settings.password_file}, mode 0600)")
        return f"user {self.user}, password: in {settings.password_file} (generated at the first set-up)"


def prepare_home(settings: BiSettings) -> Login:
    """The state folder with its secret key, font files and admin password; the login to print."""
    from loyalty.quality.fonts import write_font_files

    settings.home.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.home, 0o700)
    key = settings.home / "secret_key"
    if not key.exists():
        _write_private(key, secrets.token_urlsafe(48) + "\n")
    write_font_files(settings.home / "static" / "fonts")
    if os.environ.get("LOYALTY_BI_ADMIN_PASSWORD"):
        return Login("admin", os.environ["LOYALTY_BI_ADMIN_PASSWORD"], "env")
    if settings.password_file.exists():
        return Login("admin", settings.password_file.read_text().strip(), "file")
    password = secrets.token_urlsafe(12)
    _write_private(settings.password_file, password + "\n")
    return Login("admin", password, "generated")


def setup(settings: BiSettings, login: Login) -> dict:
    """``bi/assets.py setup`` in Superset's venv: migrate, roles, the admin user, the dashboards.
    Its log goes to ``<home>/setup.log``; returns its summary (what was imported, the night)."""
    if not settings.serving.exists():
        raise FileNotFoundError(f"no serving file at {settings.serving}: run `make demo` (or a night) first, "
                                "or point LOYALTY_SERVING at one")
    env = {**settings.superset_env(), "LOYALTY_BI_ADMIN_PASSWORD": login.password}
    cmd = [str(settings.python), str(ASSETS_SCRIPT), "setup", "--dashboards", str(settings.bundle),
           "--serving", str(settings.serving)]
    if login.source == "env":
        cmd.append("--reset-password")
    setup_log = settings.home / "setup.log"
    with open(setup_log, "w") as out:
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=out, text=True, cwd=settings.home)
    if r.returncode != 0:
        tail = setup_log.read_text()[-4000:]
        raise RuntimeError(f"Superset's set-up failed (exit {r.returncode}); the end of {setup_log}:\n{tail}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def export(settings: BiSettings, dest: Path | None = None) -> dict:
    """``bi/assets.py export``: every dashboard of Superset's metadata DB into the bundle folder."""
    env = settings.superset_env()
    cmd = [str(settings.python), str(ASSETS_SCRIPT), "export", "--dashboards", str(dest or settings.bundle)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=settings.home)
    if r.returncode != 0:
        raise RuntimeError(f"the export failed (exit {r.returncode}):\n{r.stderr[-4000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def server_command(settings: BiSettings) -> list[str]:
    return [str(settings.venv / "bin" / "gunicorn"), "--bind", f"{settings.host}:{settings.port}",
            "--workers", "1", "--worker-class", "gthread", "--threads", "8", "--timeout", "120", "--graceful-timeout", "5",
            "--access-logfile", "-", "--error-logfile", "-", "superset.app:create_app()"]


def healthy(settings: BiSettings, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{settings.url}/health", timeout=timeout) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def wait_healthy(settings: BiSettings, proc: subprocess.Popen | None = None, timeout: float = 180.0) -> float:
    """Seconds until ``/health`` answers; raises when the server exits or the time is up."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if healthy(settings):
            return time.monotonic() - started
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Superset exited with {proc.returncode}; see {settings.log_file}")
        time.sleep(0.5)
    raise TimeoutError(f"Superset did not answer {settings.url}/health within {timeout:.0f} s; see {settings.log_file}")


def _alive(pid: int) -> bool:
    """Whether the process runs (a child of this process that exited is reaped, not a zombie)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: `make bi-stop` in another shell
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def running_pid(settings: BiSettings) -> int | None:
    """The pid of the server ``start`` left running, if it still runs."""
    try:
        pid = int(settings.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def start(settings: BiSettings) -> tuple[int, float]:
    """Start the server in the background (its own process group; log in ``<home>/superset.log``);
    its pid and the seconds until it answered."""
    if (pid := running_pid(settings)) is not None:
        raise RuntimeError(f"Superset already runs (pid {pid}, {settings.pid_file}); `python -m loyalty.bi stop` first")
    log_file = open(settings.log_file, "a")  # noqa: SIM115 (the child keeps it)
    proc = subprocess.Popen(server_command(settings), env=settings.superset_env(), cwd=settings.home,
                            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log_file.close()
    settings.pid_file.write_text(f"{proc.pid}\n")
    try:
        seconds = wait_healthy(settings, proc)
    except BaseException:
        stop(settings)
        raise
    return proc.pid, seconds


def stop(settings: BiSettings, timeout: float = 30.0) -> bool:
    """Stop the server ``start`` started (its process group: gunicorn's master and worker)."""
    pid = running_pid(settings)
    settings.pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)
    return True


def serve(settings: BiSettings) -> int:
    """The server in the foreground until Ctrl-C (``make bi``)."""
    if (pid := running_pid(settings)) is not None:
        raise RuntimeError(f"Superset already runs in the background (pid {pid}); `python -m loyalty.bi stop` first")
    proc = subprocess.Popen(server_command(settings), env=settings.superset_env(), cwd=settings.home)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
