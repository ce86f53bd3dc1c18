"""Child server processes for the tools (golden replay, contract test): start, wait for health, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from pgcluster import free_port

__all__ = ["Server", "free_port", "tail"]


class Server:
    """One server process in its own process group, logging to ``logfile``."""

    def __init__(self, role: str, cmd: list[str], env: dict[str, str], cwd: str, port: int, logfile: str):
        self.role, self.cmd, self.env, self.cwd, self.port, self.logfile = role, cmd, env, cwd, port, logfile
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self, timeout: float, health_path: str = "/health") -> None:
        fh = open(self.logfile, "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        fh.close()
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server '{self.role}' exited with {self.proc.returncode}; log {self.logfile}:\n"
                                   + tail(self.logfile))
            try:
                with urllib.request.urlopen(self.base + health_path, timeout=2) as r:
                    if r.status == 200:
                        return
                    last = f"status {r.status}"
            except urllib.error.HTTPError as e:
                last = f"status {e.code}"
            except OSError as e:
                last = str(e)
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server '{self.role}' not healthy after {timeout:.0f}s ({last}); log {self.logfile}:\n"
                           + tail(self.logfile))

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the group we created with start_new_session
            except ProcessLookupError:
                pass
            p.wait(timeout=5)


def tail(path: str, n: int = 25) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-n:])
    except OSError:
        return ""
