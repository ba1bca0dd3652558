"""influx-conformance for Python: the two binaries on PATH and a way to start the reference.

The wheel installs ``influx-reference`` (an executable model of InfluxDB OSS 2.7 and Cloud,
served over the real HTTP API, in memory) and ``influx-conformance`` (the conformance suite,
with its cases and snapshots in ``<prefix>/share/influx-conformance/``). This module finds them
and starts the reference on a free port; :mod:`influx_conformance.pytest_plugin` turns that into
the ``influxdb_reference`` fixture.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Mapping, Optional

__all__ = [
    "ReferenceError",
    "ReferenceServer",
    "data_dir",
    "executable",
    "serve_args",
    "start_reference",
]

_EXE_SUFFIX = ".exe" if os.name == "nt" else ""

#: How long the reference may take to print ``listening on`` (it takes milliseconds; a loaded
#: CI machine gets room).
STARTUP_TIMEOUT_S = 30.0
#: How long it may take to exit after SIGTERM (it lets requests in flight finish for 2 s).
STOP_TIMEOUT_S = 5.0


class ReferenceError(RuntimeError):
    """The reference could not be found, started or stopped."""


def _script_dirs() -> List[Path]:
    """Where this installation's console scripts are: its own scheme's, then the user's."""
    dirs = []
    for scheme in (None, f"{os.name}_user"):
        try:
            path = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        if path:
            dirs.append(Path(path))
    return dirs


def executable(name: str = "influx-reference") -> Path:
    """The path of an installed binary (``influx-reference`` or ``influx-conformance``).

    ``INFLUX_REFERENCE_BIN`` (for ``influx-reference``) or ``INFLUX_CONFORMANCE_BIN`` overrides
    it, e.g. with a binary built by ``cargo build``. Otherwise the scripts directory of the
    environment this package is installed in, then the user's, then ``PATH``.
    """
    override = os.environ.get(name.upper().replace("-", "_") + "_BIN")
    if override:
        return Path(override)
    for d in _script_dirs():
        candidate = d / (name + _EXE_SUFFIX)
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ReferenceError(
        f"{name} not found in {', '.join(str(d) for d in _script_dirs())} or on PATH; "
        f"install the influx-conformance wheel or set {name.upper().replace('-', '_')}_BIN"
    )


def data_dir() -> Optional[Path]:
    """``<prefix>/share/influx-conformance`` (cases, snapshots, targets), if installed."""
    for d in _script_dirs():
        share = d.parent / "share" / "influx-conformance"
        if (share / "cases").is_dir():
            return share
    return None


def serve_args(options: Mapping[str, Any]) -> List[str]:
    """``influx-reference serve`` flags from keyword options.

    ``retention="1h"`` is ``--retention 1h``; ``no_setup=True`` is ``--no-setup`` (``False``
    and ``None`` leave a flag out). Every ``serve`` flag can be given this way.
    """
    args: List[str] = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        else:
            args.extend([flag, str(value)])
    return args


@dataclass
class ReferenceServer:
    """A running ``influx-reference serve``: where it listens and the tenant it was started with.

    ``token`` is an operator token (all permissions), ``org`` and ``bucket`` exist unless it was
    started with ``no_setup=True`` (then a client's onboarding creates them). Everything is in
    memory: a fresh server is a clean slate.
    """

    url: str
    token: str
    org: str
    bucket: str
    username: str
    password: str
    flavor: str
    pid: int
    args: List[str] = field(default_factory=list)
    _process: Optional[subprocess.Popen] = field(default=None, repr=False)
    _stderr: Any = field(default=None, repr=False)

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it has not exited within :data:`STOP_TIMEOUT_S`."""
        proc = self._process
        if proc is None:
            return
        self._process = None
        try:
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def stderr_text(self) -> str:
        """What the server wrote to stderr so far (errors only; it is quiet otherwise)."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def __enter__(self) -> "ReferenceServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_reference(
    *,
    flavor: str = "v2",
    org: str = "my-org",
    bucket: str = "my-bucket",
    token: str = "my-token",
    username: str = "my-user",
    password: str = "my-password",
    binary: Optional[os.PathLike] = None,
    timeout: float = STARTUP_TIMEOUT_S,
    **options: Any,
) -> ReferenceServer:
    """Starts ``influx-reference serve`` on a free loopback port and waits for ``listening on``.

    Keyword ``options`` are further ``serve`` flags (see :func:`serve_args`): ``retention``,
    ``no_setup``, ``plan``, ``apply_delay``, ``max_body_bytes``, ``fault_status``, ...
    Stop it with :meth:`ReferenceServer.stop` (or use it as a context manager).
    """
    exe = Path(binary) if binary is not None else executable("influx-reference")
    args = serve_args(
        {
            "flavor": flavor,
            "org": org,
            "bucket": bucket,
            "token": token,
            "username": username,
            "password": password,
            **options,
        }
    )
    argv = [str(exe), "serve", "--bind", "127.0.0.1:0", *args]
    stderr = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
    except OSError as e:
        stderr.close()
        raise ReferenceError(f"cannot start {exe}: {e}") from e
    server = ReferenceServer(
        url="",
        token=token,
        org=org,
        bucket=bucket,
        username=username,
        password=password,
        flavor=flavor,
        pid=proc.pid,
        args=argv,
        _process=proc,
        _stderr=stderr,
    )
    line = _first_line(proc, timeout)
    prefix = "listening on "
    if not line.startswith(prefix):
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        stderr_text = _read_all(stderr)
        server.stop()
        raise ReferenceError(
            f"{' '.join(argv)} did not start"
            + (f" (exit status {proc.returncode})" if proc.returncode is not None else "")
            + (f": {stderr_text.strip()}" if stderr_text.strip() else f"; it printed {line!r}")
        )
    server.url = line[len(prefix) :].strip()
    return server


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    """The first stdout line, or "" at end of output or after ``timeout`` seconds."""
    out: List[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return out[0].decode("utf-8", "replace") if out else ""


def _read_all(f: Any) -> str:
    try:
        f.seek(0)
        return f.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""
