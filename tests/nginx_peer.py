"""Run the Debian nginx on 127.0.0.1:<free port> serving a directory, with
every path (pid, logs, temp dirs) inside a temporary directory; stopped on
exit.  Used by the peer tests and bench/bench_download.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CONF = """\
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests {keepalive_requests};
    keepalive_timeout 30s;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def nginx(root: Path, *, keepalive_requests: int = 100, binary: str | None = None
          ) -> Iterator[int]:
    """Serve ``root``; yields the port.  ``keepalive_requests`` 100 is KPN's
    per-connection limit (nginx then answers the 100th with Connection: close)."""
    exe = binary or shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory(prefix="mfota-nginx-") as tmp:
        port = free_port()
        user = "user root;" if os.geteuid() == 0 else ""
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(CONF.format(user=user, tmp=tmp, port=port, root=root,
                                    keepalive_requests=keepalive_requests))
        proc = subprocess.Popen([exe, "-e", f"{tmp}/error.log", "-p", tmp, "-c", str(conf)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), socket.create_connection(
                        ("127.0.0.1", port), timeout=0.2):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = Path(tmp, "error.log")
                    raise RuntimeError("nginx did not start: " + proc.stderr.read().decode()
                                       + (log.read_text() if log.exists() else ""))
                time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
