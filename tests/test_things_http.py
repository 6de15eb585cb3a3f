"""Framing of the uplink's HTTP response by the C core, bytes split anywhere."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m2mfota._errors import ERR
from m2mfota.things import ResponseError, ResponseFramer, parse_uplink_response

BODY = b'[{"bn":"urn:dev:IMEI:1:"},{"n":"url","vs":"http://1.2.3.4/f"},{"n":"token","vs":"t"}]'


def chunked(body: bytes, sizes: list[int], ext: bool = False, trailer: bool = False) -> bytes:
    out, at = b"", 0
    for size in sizes:
        piece = body[at:at + size]
        if not piece:
            break
        size_line = f"{len(piece):X}".encode() + (b";name=val" if ext else b"")
        out += size_line + b"\r\n" + piece + b"\r\n"
        at += len(piece)
    if at < len(body):
        out += f"{len(body) - at:x}\r\n".encode() + body[at:] + b"\r\n"
    out += b"0\r\n" + (b"X-Trailer: 1\r\n" if trailer else b"") + b"\r\n"
    return out


def feed_split(raw: bytes, cuts: list[int], max_body: int = 4096) -> tuple[ResponseFramer, int]:
    framer = ResponseFramer(max_body)
    points = sorted({0, len(raw), *(c % (len(raw) + 1) for c in cuts)})
    used = 0
    for a, b in zip(points, points[1:]):
        n = framer.feed(raw[a:b])
        used += n
        if framer.done:
            break
        assert n == b - a
    return framer, used


responses = st.builds(
    lambda body, style, sizes, ext, trailer, interim, extra_headers: (
        body,
        (b"HTTP/1.1 100 Continue\r\n\r\n" if interim else b"")
        + b"HTTP/1.1 200 OK\r\nServer: test\r\n"
        + b"".join(f"X-H{i}: {'v' * n}\r\n".encode() for i, n in enumerate(extra_headers))
        + (
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            if style == "length"
            else b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body, sizes, ext, trailer)
        ),
    ),
    st.binary(max_size=600),
    st.sampled_from(["length", "chunked"]),
    st.lists(st.integers(1, 100), max_size=8),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.lists(st.integers(0, 400), max_size=3),
)


@given(resp=responses, cuts=st.lists(st.integers(0, 5000), max_size=12),
       tail=st.binary(max_size=20))
def test_split_anywhere_gives_the_same_body(resp, cuts, tail):
    body, raw = resp
    framer, used = feed_split(raw + tail, cuts)
    assert framer.done
    assert used == len(raw)  # the bytes after the response are left alone
    assert framer.status == 200
    assert framer.body == body


@given(cuts=st.lists(st.integers(0, 500), max_size=5))
def test_close_delimited_body(cuts):
    raw = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY
    framer, _ = feed_split(raw, cuts)
    assert not framer.done
    framer.eof()
    assert framer.done and framer.body == BODY
    assert parse_uplink_response(raw).body == BODY


def test_bare_lf_lines_and_empty_lines_before_status():
    raw = b"\r\nHTTP/1.1 202 Accepted\nContent-Length: 2\n\nok"
    resp = parse_uplink_response(raw)
    assert (resp.status, resp.body) == (202, b"ok")


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status):
    framer = ResponseFramer()
    framer.feed(f"HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n".encode())
    assert framer.done and framer.body == b""


def test_error_statuses_are_framed_too():
    resp = parse_uplink_response(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nbad")
    assert (resp.status, resp.body) == (401, b"bad")


def test_long_unrelated_header_is_skipped():
    raw = b"HTTP/1.1 200 OK\r\nSet-Cookie: " + b"c" * 5000 + b"\r\nContent-Length: 2\r\n\r\nhi"
    assert parse_uplink_response(raw).body == b"hi"


HTTP_ERRORS = [
    (b"HTTP/2 200 OK\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_STATUS"),
    (b"HTTP/1.1 20 OK\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_STATUS"),
    (b"HTTP/1.1 200OK\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_STATUS"),
    (b"<html>\r\n", "MFOTA_ERR_THINGS_HTTP_STATUS"),
    (b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_HEADER"),
    (b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_HEADER"),
    (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_HEADER"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "MFOTA_ERR_THINGS_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
     "MFOTA_ERR_THINGS_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     "MFOTA_ERR_THINGS_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "MFOTA_ERR_THINGS_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
     "MFOTA_ERR_THINGS_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n",
     "MFOTA_ERR_THINGS_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 17 + b"\r\n",
     "MFOTA_ERR_THINGS_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "MFOTA_ERR_THINGS_HTTP_TOO_LONG"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n",
     "MFOTA_ERR_THINGS_HTTP_TOO_LONG"),
    (b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 4097, "MFOTA_ERR_THINGS_HTTP_TOO_LONG"),
]


@pytest.mark.parametrize("raw,code", HTTP_ERRORS, ids=[c[22:] + str(i) for i, (_, c) in
                                                        enumerate(HTTP_ERRORS)])
def test_framing_errors(raw, code):
    framer = ResponseFramer(4096)
    with pytest.raises(ResponseError) as info:
        framer.feed(raw)
        framer.eof()
    assert info.value.code == code
    with pytest.raises(ResponseError):  # the error is sticky
        framer.feed(b"more")


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"",
    ],
)
def test_truncated(raw):
    with pytest.raises(ResponseError) as info:
        parse_uplink_response(raw)
    assert info.value.code == "MFOTA_ERR_THINGS_HTTP_TRUNCATED"


def test_every_http_error_code_has_a_test():
    tested = {c for _, c in HTTP_ERRORS} | {"MFOTA_ERR_THINGS_HTTP_TRUNCATED"}
    assert tested == {n for n in ERR if n.startswith("MFOTA_ERR_THINGS_HTTP_")}


def test_uplink_response_then_downlink():
    from m2mfota.things import parse_downlink

    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           + chunked(BODY, [7, 30, 1]))
    resp = parse_uplink_response(raw)
    cmd = parse_downlink(resp.body, "1")
    assert (cmd.url, cmd.token) == ("http://1.2.3.4/f", "t")
