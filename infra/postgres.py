"""A private PostgreSQL cluster under a folder of ours, from the machine's PostgreSQL binaries.

`initdb` refuses to run as root, so when we are root the cluster belongs to the `postgres`
system user and its server commands run as that user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


def postgres_bin() -> Path:
    """The newest server binaries installed (Debian keeps them out of PATH); on a machine
    without them, as root with apt, they are installed from Debian's packages."""
    found = _installed()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        found = _installed()
    if found is None:
        raise FileNotFoundError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; "
            "install them, e.g. `apt-get install postgresql`"
        )
    return found


def _installed() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _major_version(path: str) -> int:
    version = Path(path).parent.parent.name
    return int(version) if version.isdigit() else 0


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SUPERUSER, "--"]


@dataclass
class PostgresCluster:
    directory: Path
    port: int
    max_connections: int = 100

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/"

    def database_url(self, name: str) -> str:
        return f"{self.url}{name}"

    def _server(self, *args: str, log: Path | None = None) -> None:
        command = [*_as_server_user(), str(postgres_bin() / args[0]), *args[1:]]
        with (log or self.directory / "commands.log").open("ab") as out:
            subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT)

    def _client(self, *args: str) -> None:
        common = ["-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER]
        command = [str(postgres_bin() / args[0]), *common, *args[1:]]
        with (self.directory / "commands.log").open("ab") as out:
            subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT)

    def start(self) -> None:
        """Create the cluster on first use, then start it (fsync off: it is throwaway)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            _make_traversable(self.directory)
        if not (self.data / "PG_VERSION").exists():
            self._server(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", SUPERUSER,
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            f"-c max_connections={self.max_connections}"
        )
        self._server(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"),
            "-w", "start", "-o", options,
        )  # fmt: skip

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    @property
    def pid(self) -> int:
        """The running postmaster's (pg_ctl detaches it: it is nobody's child)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self.running():
            self._server("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> None:
        self._client("createdb", "-E", "UTF8", "-T", "template0", name)

    def drop_database(self, name: str) -> None:
        self._client("dropdb", "--if-exists", name)

    def dump(self, name: str, target: Path) -> None:
        self._client("pg_dump", "-Fc", "-f", str(target), name)

    def restore(self, name: str, source: Path) -> None:
        self.create_database(name)
        self._client("pg_restore", "--no-owner", "-d", name, str(source))


def _make_traversable(directory: Path) -> None:
    """The server user must reach its folder through ours (temp folders are often 0700)."""
    for parent in [directory, *directory.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
