"""The C downloader over real sockets against the M2M file server emulator,
under every fault it can inject: the result is byte-identical or a specific
error, never silent corruption.  (The Python sink also checks the sink
contract: in-order bytes, parts that end where they began, CRCs that match.)"""

from __future__ import annotations

import math
import os
import random
import socket
import subprocess
import sys
import threading
import time
import zlib

import pytest
from canned_http import read_request_head
from fileserver_fixture import fileserver  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import m2mfota
from m2mfota.download import request_bytes
from m2mfota.emulator.fileserver import Faults

PART = 1024


def blob(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def fetch(running, data: bytes, faults: Faults | None = None, **kw):
    pub = running.server.publish(data, device="dev-1", faults=faults)
    kw.setdefault("part_size", PART)
    kw.setdefault("timeout", 2.0)
    return pub, m2mfota.download(running.url(pub), pub.token, **kw)


def failed(running, data: bytes, faults: Faults | None = None, **kw) -> m2mfota.DownloadError:
    with pytest.raises(m2mfota.DownloadError) as exc:
        fetch(running, data, faults, **kw)
    return exc.value


@pytest.mark.parametrize("pipeline", [False, True])
def test_clean_download_counts(fileserver, pipeline):  # noqa: F811
    data = blob(20 * PART + 17)
    pub, r = fetch(fileserver, data, pipeline=pipeline)
    assert r.data == data and r.total == len(data) and r.offset == 0
    assert r.requests == 21 and r.connections == 1 and r.retries == 0
    assert r.unverified_parts == 0 and r.budget_used == 21
    assert [e[0] for e in r.events] == ["total"] + ["done"] * 21
    assert all(e[4] for e in r.events[1:])  # every part verified by its Digest
    st = fileserver.server.stats(pub.file_id)
    assert st["requests"] == 21 and st["connections"] == 1 and st["statuses"] == {"200": 21}
    # Every request is the minimal one.
    one = request_bytes(fileserver.url(pub), pub.token, 0, PART - 1)
    assert r.request_bytes <= 21 * (len(one) + 4)


@pytest.mark.parametrize("pipeline", [False, True])
def test_connections_are_ceil_requests_over_100(fileserver, pipeline):  # noqa: F811
    data = blob(250 * 64 + 5)
    pub, r = fetch(fileserver, data, part_size=64, align=64, pipeline=pipeline)
    assert r.data == data and r.requests == 251
    assert r.connections == math.ceil(251 / 100) and r.retries == 0
    assert fileserver.server.stats(pub.file_id)["connections"] == 3


def test_server_connection_close_is_obeyed(fileserver):  # noqa: F811
    # The server closes after 100; a client allowed 150 per connection must
    # still reconnect without a retry.
    data = blob(230 * 64)
    _, r = fetch(fileserver, data, part_size=64, align=64, per_connection=150)
    assert r.data == data and r.retries == 0 and r.connections == 3


@pytest.mark.parametrize("faults, check", [
    (Faults(drop_after_bytes=100), lambda r: r.retries == 1 and r.connections == 2),
    (Faults(drop_after_bytes=0), lambda r: r.retries == 1),
    # (with a request in flight ahead, a failed part costs a reconnect)
    (Faults(corrupt_byte_at=3 * PART + 5), lambda r: r.retries == 1 and r.connections <= 2),
    (Faults(wrong_digest=True, wrong_digest_times=3), lambda r: r.retries == 3),
    (Faults(omit_digest=True), lambda r: r.unverified_parts == r.requests),
    (Faults(use_206=True), lambda r: r.retries == 0),
    (Faults(chunked=True), lambda r: r.retries == 0),
    (Faults(overlong_bytes=5), lambda r: r.retries == 1),
    (Faults(digest_variant=True), lambda r: r.unverified_parts == 0),
    (Faults(status_503_times=2, retry_after=0), lambda r: r.waits == 2),
    (Faults(status_503_times=1, retry_after=None), lambda r: r.waits == 1),
    (Faults(stall_seconds=1.5), lambda r: r.retries == 1),
    (Faults(ignore_range=True), lambda r: r.requests == 1),
    (Faults(replace_after_requests=4), lambda r: r.restarts == 1),
    (Faults(replace_after_requests=4, replace_same_size=True), lambda r: r.restarts == 1),
])
@pytest.mark.parametrize("pipeline", [False, True])
def test_fault_is_survived_byte_identical(fileserver, faults, check, pipeline):  # noqa: F811
    data = blob(8 * PART + 300, seed=hash(repr(faults)) & 0xFFFF)
    pub, r = fetch(fileserver, data, faults, timeout=1.0, pipeline=pipeline)
    assert r.data == fileserver.server.data(pub.file_id), "silent corruption"
    assert r.total == len(r.data)
    assert check(r), r
    failures = [e for e in r.events if e[0] == "failed"]
    assert r.retries >= len(failures)


def test_corrupt_part_is_discarded_then_refetched(fileserver):  # noqa: F811
    data = blob(4 * PART)
    _, r = fetch(fileserver, data, Faults(corrupt_byte_at=PART + 1))
    failed_ev = [e for e in r.events if e[0] == "failed"]
    assert failed_ev == [("failed", PART, PART, "MFOTA_ERR_HTTP_CRC")]
    done = [e[1] for e in r.events if e[0] == "done"]
    assert done == [0, PART, 2 * PART, 3 * PART]


@pytest.mark.parametrize("faults, code", [
    (Faults(expire_token=True), "MFOTA_ERR_DL_UNAUTHORIZED"),
    (Faults(forbidden=True), "MFOTA_ERR_DL_FORBIDDEN"),
    (Faults(not_found=True), "MFOTA_ERR_DL_NOT_FOUND"),
    (Faults(drop_after_bytes=10, drop_times=100), "MFOTA_ERR_HTTP_SHORT_BODY"),
    (Faults(corrupt_byte_at=0, corrupt_times=100), "MFOTA_ERR_HTTP_CRC"),
    (Faults(overlong_bytes=1, overlong_times=100), "MFOTA_ERR_HTTP_RANGE"),
    (Faults(status_503_times=100, retry_after=0), "MFOTA_ERR_DL_BUSY"),
    (Faults(status_503_times=1, retry_after=3600), "MFOTA_ERR_DL_BUSY"),
    (Faults(stall_seconds=1.5, stall_times=100), "MFOTA_ERR_DL_TIMEOUT"),
])
def test_fault_gives_a_specific_error(fileserver, faults, code):  # noqa: F811
    exc = failed(fileserver, blob(3 * PART), faults, timeout=0.5, max_retries=2)
    assert exc.code == code
    if exc.result is not None:
        # Whatever was kept is a correct prefix of completed parts.
        assert blob(3 * PART).startswith(exc.result.data)


def test_wrong_token_and_expired_token(fileserver):  # noqa: F811
    data = blob(2 * PART)
    pub = fileserver.server.publish(data, device="dev-2", ttl=-1.0)
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download(fileserver.url(pub), pub.token, part_size=PART)
    assert exc.value.code == "MFOTA_ERR_DL_UNAUTHORIZED"
    other = fileserver.server.publish(data, device="dev-3")
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download(fileserver.url(pub), other.token, part_size=PART)
    assert exc.value.code == "MFOTA_ERR_DL_UNAUTHORIZED"


def test_ignored_range_mid_file_fails_clearly(fileserver):  # noqa: F811
    exc = failed(fileserver, blob(4 * PART), Faults(ignore_range=True), offset=2 * PART)
    assert exc.code == "MFOTA_ERR_DL_RANGE_IGNORED"
    assert exc.result.data == b""  # nothing was written at a wrong offset


def test_resume_from_offset_and_request_count(fileserver):  # noqa: F811
    data = blob(10 * PART + 9)
    _, r = fetch(fileserver, data, offset=6 * PART, requests_used=40)
    assert r.offset == 6 * PART and r.data == data[6 * PART :]
    assert r.requests == 5 and r.budget_used == 45


def test_resume_at_the_end_is_done(fileserver):  # noqa: F811
    data = blob(3 * PART)
    _, r = fetch(fileserver, data, offset=len(data))
    assert r.data == b"" and r.total == len(data) and r.requests == 1


def test_resume_past_the_end_of_a_changed_file_restarts(fileserver):  # noqa: F811
    data = blob(3 * PART)
    _, r = fetch(fileserver, data, offset=5 * PART, total=6 * PART)
    assert r.restarts == 1 and r.offset == 0 and r.data == data


def test_restart_when_the_new_size_is_not_told(fileserver):  # noqa: F811
    # The file changes (new ETag) while the server ignores Range and sends
    # chunked bodies (the first with a bad Digest, so a second is asked for):
    # the new size is unknown until the body ends, so the
    # restart must not reuse the old one (found by the random mix below).
    faults = Faults(replace_after_requests=1, chunked=True, ignore_range=True, wrong_digest=True)
    pub, r = fetch(fileserver, b"", faults)
    assert r.restarts == 1 and r.data == fileserver.server.data(pub.file_id)
    assert r.events[0] == ("total", None, True)
    assert ("total", len(r.data), False) in r.events


def test_total_change_without_restarts_left_is_an_error(fileserver):  # noqa: F811
    exc = failed(fileserver, blob(6 * PART), Faults(replace_after_requests=2), max_restarts=0)
    assert exc.code == "MFOTA_ERR_DL_TOTAL_CHANGED"


def test_budget_is_enforced(fileserver):  # noqa: F811
    # 10 parts of 1 KiB do not fit 5 requests, so the planner grows the parts.
    _, r = fetch(fileserver, blob(10 * PART), budget=5, reserve=0, align=1)
    assert r.requests <= 5
    exc = failed(fileserver, blob(10 * PART), Faults(wrong_digest=True, wrong_digest_times=50),
                 budget=12, reserve=2, max_retries=100)
    assert exc.code == "MFOTA_ERR_DL_BUDGET"
    assert exc.result.budget_used == 12


@pytest.mark.parametrize("pipeline", [False, True])
def test_server_budget_of_19999(fileserver, pipeline):  # noqa: F811
    fileserver.server.max_requests = 30
    try:
        exc = failed(fileserver, blob(40 * 64), part_size=64, align=64, pipeline=pipeline)
    finally:
        fileserver.server.max_requests = 19999
    # The 31st request is refused; pipelined, the 32nd was already on its way.
    assert exc.code == "MFOTA_ERR_DL_FORBIDDEN" and exc.result.requests == 31 + pipeline
    assert exc.result.data == blob(40 * 64)[: 30 * 64]


def test_bad_url_and_token_are_refused_before_any_request():
    for url, token, code in [("https://1.2.3.4/f", "t", "MFOTA_ERR_URL_SCHEME"),
                             ("http://1.2.3.4/f", "a\r\nb", "MFOTA_ERR_INVAL")]:
        with pytest.raises(m2mfota.DownloadError) as exc:
            m2mfota.download(url, token)
        assert exc.value.code == code


def test_nothing_listening_is_a_connect_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download(f"http://127.0.0.1:{port}/f", "t", max_retries=1)
    assert exc.value.code == "MFOTA_ERR_DL_CONNECT"


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    size=st.integers(0, 6 * PART),
    part=st.sampled_from([256, 1000, PART]),
    faults=st.fixed_dictionaries({}, optional={
        "drop_after_bytes": st.integers(0, 2000),
        "corrupt_byte_at": st.integers(0, 6 * PART),
        "omit_digest": st.booleans(),
        "wrong_digest": st.booleans(),
        "status_503_times": st.integers(0, 2),
        "replace_after_requests": st.integers(1, 20),
        "replace_same_size": st.booleans(),
        "use_206": st.booleans(),
        "chunked": st.booleans(),
        "ignore_range": st.booleans(),
        "overlong_bytes": st.integers(0, 3),
    }),
    offset_part=st.integers(0, 3),
    pipeline=st.booleans(),
)
def test_random_fault_mixes_never_corrupt(fileserver, size, part, faults, offset_part,  # noqa: F811
                                          pipeline):
    faults.setdefault("retry_after", 0)
    data = blob(size, seed=size)
    offset = min(size, offset_part * part)
    pub = fileserver.server.publish(data, device="dev-h", faults=Faults(**faults))
    try:
        r = m2mfota.download(fileserver.url(pub), pub.token, part_size=part, align=1,
                             offset=offset, timeout=1.0, max_retries=4, pipeline=pipeline)
    except m2mfota.DownloadError as exc:
        # Only errors that are the injected faults' own.
        assert exc.code in {"MFOTA_ERR_DL_RANGE_IGNORED", "MFOTA_ERR_DL_TOTAL_CHANGED",
                            "MFOTA_ERR_HTTP_CRC", "MFOTA_ERR_HTTP_SHORT_BODY",
                            "MFOTA_ERR_DL_CLOSED", "MFOTA_ERR_HTTP_RANGE"}, exc
        return
    served = fileserver.server.data(pub.file_id)
    overlong_whole = faults.get("overlong_bytes") and faults.get("ignore_range")
    if faults.get("omit_digest") and (faults.get("corrupt_byte_at") is not None or overlong_whole):
        # Without a Digest a corrupted part cannot be caught per part (the
        # whole-image check must), nor can a whole-file body that runs long
        # when nothing states its length: such parts are reported
        # unverified, and every verified part is right.
        if not overlong_whole:
            assert len(r.data) == len(served) - r.offset
        for _, first, length, crc, verified in (e for e in r.events if e[0] == "done"):
            if verified:
                assert crc == zlib.crc32(served[first : first + length])
        return
    assert r.data == served[r.offset :], "silent corruption"
    assert zlib.crc32(r.data) == zlib.crc32(served[r.offset :])


def test_serve_files_cli(tmp_path):
    (tmp_path / "fw-1.bin").write_bytes(blob(5000, seed=7))
    (tmp_path / "fw-2.bin").write_bytes(blob(3, seed=8))
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "m2mfota.cli", "serve-files", str(tmp_path), "--port", str(port),
         "--exit-after", "30"], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(3)]
        assert lines[2] == f"serving on http://127.0.0.1:{port}"
        time.sleep(0.1)
        for line in lines[:2]:
            name, url, token = line.split("\t")
            r = m2mfota.download(url, token, part_size=1024)
            assert r.data == (tmp_path / name).read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _canned_server(head: bytes, body: bytes) -> tuple[int, list[bytes], threading.Thread]:
    """A server on 127.0.0.1 that answers every request on up to 4
    connections with `head` + `body` and closes; it stops by itself."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(5)
    seen: list[bytes] = []

    def serve() -> None:
        with srv:
            for _ in range(4):
                try:
                    conn, _addr = srv.accept()
                except OSError:
                    return
                with conn:
                    conn.settimeout(5)
                    try:
                        seen.append(read_request_head(conn))
                        conn.sendall(head + body)
                    except OSError:
                        pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv.getsockname()[1], seen, t


@pytest.mark.parametrize("total", [2**32, 2**40])
def test_a_file_of_4_gib_or_more_is_too_large_at_once(total):
    """Sizes are 32-bit: a Content-Range total of 4 GiB or more is refused by
    the parser, and the downloader gives up without asking again."""
    head = (b"HTTP/1.1 200 OK\r\nContent-Range: bytes 0-1023/%d\r\n"
            b"Content-Length: 1024\r\nConnection: close\r\n\r\n" % total)
    port, seen, t = _canned_server(head, bytes(1024))
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download(f"http://127.0.0.1:{port}/f", "t", part_size=PART, timeout=2.0,
                         max_retries=3)
    assert exc.value.code == "MFOTA_ERR_DL_TOO_LARGE"
    assert len(seen) == 1  # not retried
    assert exc.value.result is not None and exc.value.result.data == b""
    t.join(10)


def test_a_total_of_0xffffffff_is_refused_whatever_max_size_says():
    """0xFFFFFFFF is MFOTA_DL_TOTAL_UNKNOWN on the 32-bit sink, so the largest
    file is one byte less, even when max_size allows more."""
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download("http://127.0.0.1:9/f", "t", total=2**32 - 1, max_size=2**40)
    assert exc.value.code == "MFOTA_ERR_DL_TOO_LARGE"
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download("http://127.0.0.1:9/f", "t", total=2**32 - 2, max_size=2**40,
                         timeout=0.5, max_retries=0)
    assert exc.value.code != "MFOTA_ERR_DL_TOO_LARGE"  # accepted: it fails to connect


def test_largest_known_total_is_accepted_and_larger_is_refused_before_any_request():
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download("http://127.0.0.1:9/f", "t", total=2**32)
    assert exc.value.code == "MFOTA_ERR_DL_TOO_LARGE"
    with pytest.raises(m2mfota.DownloadError) as exc:
        m2mfota.download("http://127.0.0.1:9/f", "t", offset=2**32)
    assert exc.value.code == "MFOTA_ERR_DL_TOO_LARGE"
