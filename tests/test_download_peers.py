"""Against software no one here wrote: the C downloader fetches from nginx
(Range yes, Digest no), and curl fetches ranges from the emulator and finds a
Digest that matches zlib.crc32."""

from __future__ import annotations

import math
import os
import random
import subprocess
import zlib

import pytest
from conftest import require_tool
from fileserver_fixture import fileserver  # noqa: F401
from nginx_peer import nginx

import m2mfota


@pytest.mark.external_build
@pytest.mark.parametrize("size, part, offset", [
    (300_000, 4096, 0), (1 << 20, 1000, 0), (12345, 4096, 8192), (1, 4096, 0),
])
def test_c_downloader_fetches_from_nginx(tmp_path, size, part, offset):
    require_tool("nginx")
    data = random.Random(size).randbytes(size)
    (tmp_path / "fw.bin").write_bytes(data)
    with nginx(tmp_path) as port:
        r = m2mfota.download(f"http://127.0.0.1:{port}/fw.bin", "opaque-token-nginx-ignores",
                             part_size=part, align=1, offset=offset)
    assert r.data == data[offset:] and r.total == size
    parts = math.ceil((size - offset) / part)
    assert r.requests == parts and r.retries == 0
    assert r.connections == math.ceil(parts / 100)
    assert r.unverified_parts == parts  # nginx sends no Digest
    assert r.validator is not None      # but an ETag


@pytest.mark.external_build
@pytest.mark.parametrize("pipeline", [False, True])
def test_server_with_a_lower_connection_limit_costs_one_request_at_most(tmp_path, pipeline):
    require_tool("nginx")
    data = random.Random(9).randbytes(300 * 1000)
    (tmp_path / "fw.bin").write_bytes(data)
    with nginx(tmp_path, keepalive_requests=40) as port:
        r = m2mfota.download(f"http://127.0.0.1:{port}/fw.bin", "t", part_size=1000, align=1,
                             pipeline=pipeline)
    assert r.data == data and r.retries == 0
    # 300 parts, 40 per connection: a pipelined request is lost to the first
    # close only; the downloader then keeps to nginx's limit.
    assert r.requests == 300 + pipeline
    assert r.connections == math.ceil(300 / 40)


@pytest.mark.external_build
def test_nginx_file_replaced_mid_download_restarts(tmp_path):
    require_tool("nginx")
    old = random.Random(1).randbytes(50_000)
    new = random.Random(2).randbytes(50_000)
    path = tmp_path / "fw.bin"
    path.write_bytes(old)
    with nginx(tmp_path) as port:
        url = f"http://127.0.0.1:{port}/fw.bin"
        first = m2mfota.download(url, "t", part_size=4096, align=1)
        assert first.data == old
        path.write_bytes(new)
        os.utime(path, (1_700_000_000, 1_700_000_000))  # nginx's ETag: mtime-size
        # A resume of the old file sees another ETag: it starts over at 0.
        r = m2mfota.download(url, "t", part_size=4096, align=1, offset=40960,
                             total=len(old), validator=first.validator)
        assert r.restarts == 1 and r.offset == 0 and r.data == new
        assert ("total", len(new), True) in r.events


@pytest.mark.external_build  # runs curl (which must not inherit the ASan preload)
def test_curl_fetches_ranges_with_a_matching_digest(fileserver):  # noqa: F811
    curl = require_tool("curl")
    data = random.Random(3).randbytes(70_000)
    pub = fileserver.server.publish(data, device="curl")
    url = fileserver.url(pub)
    for first, last in [(0, 0), (0, 4095), (4096, 8191), (69_000, 69_999), (65_536, 80_000)]:
        proc = subprocess.run(
            [curl, "-s", "-D", "-", "-o", "/dev/stderr", "-r", f"{first}-{last}",
             "-H", f"Authorization: Bearer {pub.token}", url],
            capture_output=True, check=True, timeout=30)
        head = proc.stdout.decode("latin-1").lower()
        body = proc.stderr
        last = min(last, len(data) - 1)
        assert head.startswith("http/1.1 200")
        assert f"content-range: bytes {first}-{last}/{len(data)}" in head
        assert body == data[first : last + 1]
        digest = next(v for v in head.splitlines() if v.startswith("digest:"))
        assert digest.split("crc32=")[1].strip() == f"{zlib.crc32(body):08x}"
    # And the token really is checked.
    proc = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-r", "0-1",
                           "-H", "Authorization: Bearer nope", url],
                          capture_output=True, check=True, timeout=30)
    assert proc.stdout == b"401"
