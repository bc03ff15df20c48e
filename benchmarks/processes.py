"""Child processes: one-shot runs with a timeout, and servers that live for the whole run.

Every child starts in its own session (process group), so a timeout, an error or Ctrl-C
ends it together with whatever it spawned (``cdk`` starts node, node starts Python), by
the group id of the process started here and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The interpreter running the benchmarks (the venv's; not resolved: that would leave it).
PYTHON = sys.executable
_KEPT_VARIABLES = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL")
_STOP_GRACE_SECONDS = 5.0


class BenchmarkError(RuntimeError):
    """A benchmark could not produce a trustworthy figure."""


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment plus ``extra``: no AWS profile, credentials or tool settings
    of the caller leak into a measurement."""
    env = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
    return env | dict(extra)


def run(
    command: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Runs ``command`` to completion; raises BenchmarkError if it fails or times out."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise BenchmarkError(f"{command[0]} {command[1]}… took over {timeout:.0f} s") from None
    except BaseException:  # Ctrl-C, SIGTERM: leave nothing behind
        _kill_group(process)
        process.communicate()
        raise
    if process.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(command[:4])}… exited {process.returncode}:\n{_tail(stdout + stderr)}"
        )
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)


def start_server(
    stack: ExitStack,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    pipe_stdout: bool = False,
) -> subprocess.Popen[bytes]:
    """Starts a long-lived child that ``stack`` stops (group terminate, then kill); its
    output goes to ``log`` (stdout to a pipe instead with ``pipe_stdout``)."""
    log_file = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(
        list(command),
        cwd=REPO,
        env=dict(env),
        stdout=subprocess.PIPE if pipe_stdout else log_file,
        stderr=log_file,
        start_new_session=True,
    )
    stack.callback(_stop, process)
    return process


def read_ready_line(process: subprocess.Popen[bytes], *, prefix: str, timeout: float) -> str:
    """The first stdout line starting with ``prefix``, without the prefix."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([process.stdout], [], [], left)
        if not readable:
            break
        line = process.stdout.readline().decode(errors="replace")
        if not line:  # the process exited
            break
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    raise BenchmarkError(f"{process.args!r} did not print {prefix!r} within {timeout:.0f} s")


def wait_for_http(url: str, *, process: subprocess.Popen[bytes], what: str) -> None:
    """Polls ``url`` (POST) until it answers 2xx; fails fast if ``process`` dies."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"{what} exited with {process.returncode} while starting")
        with contextlib.suppress(OSError):  # URLError is an OSError: not listening yet
            http("POST", url)
            return
        time.sleep(0.2)
    raise BenchmarkError(f"{what} did not start within 60 s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http(method: str, url: str, body: bytes | None = None) -> bytes:
    """One loopback request (control endpoints of the fake and moto)."""
    request = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(request, timeout=60) as answer:
        data: bytes = answer.read()
        return data


def log_tail(path: Path) -> str:
    return _tail(path.read_text(errors="replace")) if path.exists() else ""


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _kill_group(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    # start_new_session=True: the group id is the pid of the child started here.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
