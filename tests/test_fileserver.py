"""The M2M file server emulator on its own, spoken to by the standard
library's http.client (not by m2mfota): the protocol rules it must enforce."""

from __future__ import annotations

import http.client
import zlib

from fileserver_fixture import fileserver  # noqa: F401

from m2mfota.emulator.fileserver import Faults


def conn(running) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)


def get(c, path, token, rng=None):
    headers = {"Authorization": f"Bearer {token}"}
    if rng:
        headers["Range"] = rng
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    return r, r.read()


def test_kpn_style_ranges_and_whole_file(fileserver):  # noqa: F811
    data = bytes(range(256)) * 40
    pub = fileserver.server.publish(data, device="d")
    c = conn(fileserver)
    r, body = get(c, pub.path, pub.token, "bytes=100-199")
    assert r.status == 200 and body == data[100:200]
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert r.headers["Digest"] == f"crc32={zlib.crc32(body):08x}"
    r, body = get(c, pub.path, pub.token, "bytes=-10")  # suffix
    assert body == data[-10:] and r.headers["Content-Range"].startswith(f"bytes {len(data) - 10}-")
    r, body = get(c, pub.path, pub.token, "bytes=10000-")  # open end, clamped
    assert body == data[10000:]
    r, body = get(c, pub.path, pub.token, "bytes=0-1,5-6")  # several ranges: ignored
    assert r.status == 200 and body == data and "Content-Range" not in r.headers
    r, body = get(c, pub.path, pub.token)
    assert r.status == 200 and body == data and r.headers["Digest"] == \
        f"crc32={zlib.crc32(data):08x}"
    r, _ = get(c, pub.path, pub.token, f"bytes={len(data)}-")
    assert r.status == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
    c.close()


def test_206_option(fileserver):  # noqa: F811
    pub = fileserver.server.publish(b"abcdef", device="d", faults=Faults(use_206=True))
    c = conn(fileserver)
    r, body = get(c, pub.path, pub.token, "bytes=1-2")
    assert r.status == 206 and body == b"bc"
    c.close()


def test_connection_close_with_the_100th_request(fileserver):  # noqa: F811
    pub = fileserver.server.publish(b"x" * 1000, device="d")
    c = conn(fileserver)
    for i in range(1, 101):
        r, _ = get(c, pub.path, pub.token, "bytes=0-9")
        assert (r.headers.get("Connection", "").lower() == "close") == (i == 100), i
    assert fileserver.server.stats(pub.file_id)["connections"] == 1
    c.close()


def test_tokens_are_checked_on_every_request(fileserver):  # noqa: F811
    fs = fileserver.server
    pub = fs.publish(b"secret", device="d1")
    other = fs.publish(b"other", device="d2")
    c = conn(fileserver)
    assert get(c, pub.path, pub.token, "bytes=0-1")[0].status == 200
    assert get(c, pub.path, other.token, "bytes=0-1")[0].status == 401  # other file's token
    assert get(c, pub.path, pub.token + "x", "bytes=0-1")[0].status == 401
    c.request("GET", pub.path)
    assert c.getresponse().status == 401
    c.close()
    fs.set_faults(pub.file_id, Faults(expire_token=True))
    c = conn(fileserver)
    assert get(c, pub.path, pub.token)[0].status == 401
    fresh, _ = fs.token_for(pub.file_id, ttl=-5)  # already expired
    fs.set_faults(pub.file_id, None)
    assert get(c, pub.path, fresh)[0].status == 401
    fs.unpublish(pub.file_id)
    assert get(c, pub.path, pub.token)[0].status == 404
    c.close()


def test_request_budget_per_file(fileserver):  # noqa: F811
    fs = fileserver.server
    fs.max_requests = 3
    try:
        pub = fs.publish(b"abc", device="d")
        c = conn(fileserver)
        statuses = [get(c, pub.path, pub.token, "bytes=0-0")[0].status for _ in range(5)]
        c.close()
    finally:
        fs.max_requests = 19999
    assert statuses == [200, 200, 200, 403, 403]
    assert fs.stats(pub.file_id)["statuses"] == {"200": 3, "403": 2}


def test_busy_then_ok_and_replacement(fileserver):  # noqa: F811
    fs = fileserver.server
    pub = fs.publish(b"0123456789", device="d",
                     faults=Faults(status_503_times=1, retry_after=7, replace_after_requests=2,
                                   replacement=b"new!"))
    c = conn(fileserver)
    r, _ = get(c, pub.path, pub.token, "bytes=0-3")
    assert r.status == 503 and r.headers["Retry-After"] == "7"
    r, body = get(c, pub.path, pub.token, "bytes=0-3")
    assert body == b"0123"
    etag = r.headers["ETag"]
    r, body = get(c, pub.path, pub.token, "bytes=0-3")
    assert body == b"new!" and r.headers["Content-Range"] == "bytes 0-3/4"
    assert r.headers["ETag"] != etag and fs.stats(pub.file_id)["replaced"]
    c.close()


def test_faults_per_device(fileserver):  # noqa: F811
    fs = fileserver.server
    before = fs.publish(b"abcdef", device="dev-f")
    fs.set_device_faults("dev-f", Faults(not_found=True))
    after = fs.publish(b"ghijkl", device="dev-f")
    other = fs.publish(b"mnopqr", device="dev-g")
    c = conn(fileserver)
    assert get(c, before.path, before.token)[0].status == 404
    assert get(c, after.path, after.token)[0].status == 404
    assert get(c, other.path, other.token)[0].status == 200
    fs.set_device_faults("dev-f", None)
    assert get(c, before.path, before.token)[0].status == 200
    c.close()
