"""The C HTTP response parser: fields, framing, Digest, bounds, and the same
result for every way of splitting the same bytes."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m2mfota.download import parse_response

HEADER_MAX = 4096  # MFOTA_HTTP_HEADER_MAX default
LINE_MAX = 192     # MFOTA_HTTP_LINE_MAX default


def kpn(body: bytes, first: int = 0, total: int | None = None, extra: str = "",
        digest: str | None = None) -> bytes:
    total = len(body) + first if total is None else total
    digest = f"crc32={zlib.crc32(body):08x}" if digest is None else digest
    head = (f"HTTP/1.1 200 OK\r\nContent-Range: bytes {first}-{first + len(body) - 1}/{total}\r\n"
            f"Content-Length: {len(body)}\r\nDigest: {digest}\r\n{extra}\r\n")
    return head.encode() + body


def test_kpn_part_is_parsed_and_verified():
    r = parse_response([kpn(b"hello", first=10, total=100)])
    assert r.error is None and r.complete
    assert (r.status, r.content_range, r.total, r.content_length) == (200, (10, 14), 100, 5)
    assert r.body == b"hello" and r.digest == "match" and r.body_crc == zlib.crc32(b"hello")
    assert r.keep_alive and r.events == ["headers", "end"]


@pytest.mark.parametrize("digest", [
    "crc32={:08x}", "CRC32={:08X}", "crc32={:x}", "Crc32={:X}",
    "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=, crc32={:x}",
    "md5=abc==,crc32={:08x} , unixsum=30",
])
def test_digest_any_case_any_padding_among_others(digest):
    body = b"\x00\x01firmware" * 3
    r = parse_response([kpn(body, digest=digest.format(zlib.crc32(body)))])
    assert r.error is None and r.digest == "match"


def test_one_digit_crc_value_is_read_as_such():
    # No short body has a CRC-32 below 16 at hand, so check the value read:
    # "5" is 0x00000005, which then does not match.
    r = parse_response([kpn(b"abc", digest="crc32=5")])
    assert r.digest_crc == 5 and r.digest == "mismatch" and r.error == "MFOTA_ERR_HTTP_CRC"


@pytest.mark.parametrize("value", ["", "123456789", "12g4", "0x12", "-1", "1 2"])
def test_malformed_crc_value_is_an_error(value):
    r = parse_response([kpn(b"abc", digest=f"crc32={value}")])
    assert r.error == "MFOTA_ERR_HTTP_DIGEST"


def test_crc_mismatch_ends_the_message_with_an_error():
    body = b"corrupted?"
    r = parse_response([kpn(body, digest=f"crc32={zlib.crc32(body) ^ 1:08x}") + b"NEXT"])
    assert r.error == "MFOTA_ERR_HTTP_CRC" and r.complete and r.digest == "mismatch"
    assert r.body == body and r.rest == b"NEXT"


def test_no_digest_is_unverified_not_an_error():
    r = parse_response([b"HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-2/3\r\n"
                        b"content-length: 3\r\n\r\nabc"])
    assert r.error is None and r.digest == "none" and r.status == 206


def test_header_names_are_case_insensitive():
    body = b"xyz"
    raw = (f"HTTP/1.1 200 OK\r\nCONTENT-RANGE: bytes 5-7/8\r\ncOnTeNt-LeNgTh: 3\r\n"
           f"dIgEsT: CrC32={zlib.crc32(body):x}\r\nCONNECTION: Close\r\n"
           f"RETRY-AFTER: 7\r\n\r\n").encode() + body
    r = parse_response([raw])
    assert (r.content_range, r.total, r.digest, r.keep_alive, r.retry_after) == \
        ((5, 7), 8, "match", False, 7)


def test_416_with_star_total():
    r = parse_response([b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */1234\r\n"
                        b"Content-Length: 0\r\n\r\n"])
    assert r.error is None and r.status == 416 and r.total == 1234 and r.content_range is None


def test_chunked_body_with_digest_in_trailer():
    body = b"hello world"
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n"
           b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
           + f"Digest: crc32={zlib.crc32(body):x}\r\n\r\n".encode())
    r = parse_response([raw])
    assert r.error is None and r.chunked and r.body == body and r.digest == "match"
    assert r.content_length is None  # chunked wins over Content-Length


def test_interim_1xx_is_skipped():
    raw = b"HTTP/1.1 100 Continue\r\n\r\n" + kpn(b"data")
    r = parse_response([raw])
    assert r.status == 200 and r.body == b"data" and r.events == ["headers", "end"]


def test_http10_and_close_delimited_body():
    r = parse_response([b"HTTP/1.0 200 OK\r\n\r\nwhole file"], eof=True)
    assert r.error is None and not r.keep_alive and r.body == b"whole file" and r.complete
    r = parse_response([b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx"])
    assert r.keep_alive


def test_validator_prefers_etag():
    e = parse_response([b'HTTP/1.1 200 OK\r\nLast-Modified: Mon\r\nETag: "v1"\r\n'
                        b"Content-Length: 0\r\n\r\n"])
    lm = parse_response([b"HTTP/1.1 200 OK\r\nLast-Modified: Mon\r\nContent-Length: 0\r\n\r\n"])
    assert e.validator == zlib.crc32(b'"v1"') and lm.validator == zlib.crc32(b"Mon")


def test_no_body_statuses():
    r = parse_response([b"HTTP/1.1 204 No Content\r\n\r\n"])
    assert r.complete and r.body == b""


@pytest.mark.parametrize("raw, error", [
    (b"HTTP/2 200 OK\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 20 OK\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200OK\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200 OK\r\nA: \x00\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "MFOTA_ERR_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1x99999999999\r\n\r\n", "MFOTA_ERR_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
     "MFOTA_ERR_HTTP_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nContent-Range: bytes 5-4/10\r\n\r\n", "MFOTA_ERR_HTTP_RANGE"),
    (b"HTTP/1.1 200 OK\r\nContent-Range: bytes 0-10/10\r\n\r\n", "MFOTA_ERR_HTTP_RANGE"),
    (b"HTTP/1.1 200 OK\r\nContent-Range: items 0-1/10\r\n\r\n", "MFOTA_ERR_HTTP_RANGE"),
    (b"HTTP/1.1 200 OK\r\nContent-Range: bytes 0-1/10\r\nContent-Length: 3\r\n\r\n",
     "MFOTA_ERR_HTTP_RANGE"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "MFOTA_ERR_HTTP_ENCODING"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "MFOTA_ERR_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "MFOTA_ERR_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nRetry-After: 5s\r\n\r\n", "MFOTA_ERR_HTTP_SYNTAX"),
])
def test_malformed_input_gives_a_specific_error(raw, error):
    assert parse_response([raw]).error == error


_BIG = 2**32  # sizes are 32-bit: an image is below 4 GiB


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % _BIG,
    b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
    b"HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-1/%d\r\n\r\n" % _BIG,
    b"HTTP/1.1 206 Partial\r\nContent-Range: bytes %d-%d/*\r\n\r\n" % (_BIG, _BIG + 1),
    b"HTTP/1.1 206 Partial\r\nContent-Range: bytes */%d\r\n\r\n" % (_BIG * 10),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000000\r\n",
])
def test_sizes_of_4_gib_or_more_are_too_large_not_wrapped(raw):
    assert parse_response([raw]).error == "MFOTA_ERR_DL_TOO_LARGE"


def test_largest_32_bit_sizes_and_leading_zeros_are_accepted():
    top = _BIG - 1
    r = parse_response([b"HTTP/1.1 206 Partial\r\nContent-Range: bytes %d-%d/%d\r\n"
                        b"Content-Length: 0001\r\n\r\nx" % (top - 1, top - 1, top)])
    assert r.error is None and r.content_range == (top - 1, top - 1) and r.total == top
    assert r.content_length == 1 and r.body == b"x"
    r = parse_response([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"000000000000001\r\nz\r\n0\r\n\r\n"])
    assert r.error is None and r.body == b"z"


def test_retry_after_beyond_32_bits_saturates():
    r = parse_response([b"HTTP/1.1 503 Busy\r\nRetry-After: 99999999999999999999999\r\n"
                        b"Content-Length: 0\r\n\r\n"])
    assert r.error is None and r.retry_after == 0xFFFFFFFF


def test_header_block_is_bounded():
    filler = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 60) for i in range(80))
    r = parse_response([b"HTTP/1.1 200 OK\r\n" + filler + b"\r\n"])
    assert len(filler) > HEADER_MAX and r.error == "MFOTA_ERR_HTTP_TOO_LONG"


def test_long_ignored_header_is_skipped_long_needed_one_is_an_error():
    long = b"v" * (LINE_MAX * 3)
    ok = parse_response([b"HTTP/1.1 200 OK\r\nSet-Cookie: " + long + b"\r\nContent-Length: 1"
                         b"\r\n\r\nx"])
    assert ok.error is None and ok.body == b"x"
    bad = parse_response([b"HTTP/1.1 200 OK\r\nDigest: sha-512=" + long + b"\r\n\r\n"])
    assert bad.error == "MFOTA_ERR_HTTP_TOO_LONG"


def test_truncated_body_at_eof():
    raw = kpn(b"0123456789")[:-3]
    r = parse_response([raw], eof=True)
    assert r.error == "MFOTA_ERR_HTTP_SHORT_BODY" and not r.complete


# ---- split invariance ------------------------------------------------------

@st.composite
def responses(draw):
    """Valid and damaged responses of every framing."""
    body = draw(st.binary(max_size=300))
    status = draw(st.sampled_from([200, 206, 416, 503, 404]))
    lines = [f"HTTP/1.{draw(st.sampled_from([0, 1]))} {status} Reason phrase"]
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
    first = draw(st.integers(0, 1000))
    if body and draw(st.booleans()):
        lines.append(f"Content-Range: bytes {first}-{first + len(body) - 1}/"
                     f"{first + len(body) + draw(st.integers(0, 50))}")
    crc = zlib.crc32(body) ^ draw(st.sampled_from([0, 0, 0, 1]))
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["Digest", "DIGEST"])) + ": " +
                     draw(st.sampled_from([f"crc32={crc:08x}", f"CRC32={crc:X}",
                                           f"sha-256=abc=, crc32={crc:x}"])))
    for name in draw(st.lists(st.sampled_from(["Connection: close", "Retry-After: 12",
                                               'ETag: "e"', "Last-Modified: x",
                                               "Server: nginx", "X-Long: " + "q" * 300]),
                              max_size=4)):
        lines.append(name)
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    if framing == "chunked":
        chunks, i = [], 0
        sizes = draw(st.lists(st.integers(1, 64), max_size=8))
        for size in sizes:
            if i >= len(body):
                break
            piece = body[i : i + size]
            chunks.append(b"%x\r\n%s\r\n" % (len(piece), piece))
            i += size
        if i < len(body):
            chunks.append(b"%x\r\n%s\r\n" % (len(body) - i, body[i:]))
        payload = b"".join(chunks) + b"0\r\n\r\n"
    else:
        payload = body
    raw = head + payload + draw(st.binary(max_size=8))
    if draw(st.integers(0, 4)) == 0 and raw:  # damage one byte
        pos = draw(st.integers(0, len(raw) - 1))
        raw = raw[:pos] + bytes([raw[pos] ^ draw(st.integers(1, 255))]) + raw[pos + 1 :]
    cut = draw(st.integers(0, len(raw)))
    if draw(st.integers(0, 4)) == 0:
        raw = raw[:cut]
    return raw


def _split(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(raw), *(c % (len(raw) + 1) for c in cuts)})
    return [raw[a:b] for a, b in zip(points, points[1:])]


@given(raw=responses(), cuts=st.lists(st.integers(0, 10_000), max_size=12), eof=st.booleans())
def test_every_split_gives_the_same_result(raw, cuts, eof):
    whole = parse_response([raw], eof=eof)
    assert parse_response(_split(raw, cuts), eof=eof) == whole
    assert parse_response([raw[i : i + 1] for i in range(len(raw))], eof=eof) == whole
    if whole.complete and whole.digest != "none":
        assert (whole.digest == "match") == (whole.digest_crc == zlib.crc32(whole.body))


# ---- the uplink's response (mfota_http_response_collect) ----------------------
# The client engine frames the ingestion endpoint's answer with this same
# parser; its body is the downlink.  These cases come from the framer it
# replaced: length, chunked (extensions, trailers), 1xx, close-delimited.

DOWNLINK = (b'[{"bn":"urn:dev:IMEI:1:"},{"n":"url","vs":"http://1.2.3.4/f"},'
            b'{"n":"token","vs":"t"}]')


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
    return out + b"0\r\n" + (b"X-Trailer: 1\r\n" if trailer else b"") + b"\r\n"


uplink_responses = st.builds(
    lambda body, style, sizes, ext, trailer, interim, extra: (
        body,
        (b"HTTP/1.1 100 Continue\r\n\r\n" if interim else b"")
        + b"HTTP/1.1 200 OK\r\nServer: test\r\n"
        + b"".join(f"X-H{i}: {'v' * n}\r\n".encode() for i, n in enumerate(extra))
        + (f"Content-Length: {len(body)}\r\n\r\n".encode() + body if style == "length"
           else b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body, sizes, ext, trailer)),
    ),
    st.binary(max_size=600), st.sampled_from(["length", "chunked"]),
    st.lists(st.integers(1, 100), max_size=8), st.booleans(), st.booleans(), st.booleans(),
    st.lists(st.integers(0, 400), max_size=3),
)


def _collect(pieces: list[bytes], cap: int = 4096, eof: bool = False):
    """Feed pieces to mfota_http_response_collect: (rc name, status, body, bytes used)."""
    from m2mfota._errors import err_name
    from m2mfota._native import ffi, lib

    r = ffi.new("struct mfota_http_response *")
    lib.mfota_http_response_init(r)
    body = ffi.new("uint8_t[]", cap + 1)
    used = ffi.new("size_t *")
    rc, total = 1, 0
    for piece in pieces:
        rc = lib.mfota_http_response_collect(r, piece, len(piece), used, body, cap)
        total += used[0]
        if rc != 1:  # MFOTA_NEED_MORE
            break
    if rc == 1 and eof:
        rc = lib.mfota_http_response_collect_eof(r)
    return err_name(rc), r.status, ffi.unpack(ffi.cast("char *", body), min(r.body_len, cap)), total


@given(resp=uplink_responses, cuts=st.lists(st.integers(0, 5000), max_size=12),
       tail=st.binary(max_size=20))
def test_uplink_response_split_anywhere_gives_the_same_body(resp, cuts, tail):
    body, raw = resp
    rc, status, got, used = _collect(_split(raw + tail, cuts))
    assert (rc, status, got, used) == ("MFOTA_DONE", 200, body, len(raw))


def test_uplink_response_close_delimited_and_no_body_statuses():
    raw = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + DOWNLINK
    assert _collect([raw])[0] == "MFOTA_NEED_MORE"
    assert _collect([raw], eof=True)[:3] == ("MFOTA_DONE", 200, DOWNLINK)
    for status in (204, 304):
        raw = f"HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n".encode()
        assert _collect([raw])[:3] == ("MFOTA_DONE", status, b"")


def test_uplink_response_then_downlink_through_the_python_api():
    from m2mfota.things import parse_downlink, parse_uplink_response

    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(DOWNLINK, [7, 30, 1])
    resp = parse_uplink_response(raw)
    assert parse_downlink(resp.body, "1").url == "http://1.2.3.4/f"
    bad = parse_uplink_response(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nbad")
    assert (bad.status, bad.body) == (401, b"bad")


@pytest.mark.parametrize("raw, error", [
    # what the removed uplink framer accepted and the device must not
    (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", "MFOTA_ERR_HTTP_SYNTAX"),
    (b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * 100_000 + b"\r\nContent-Length: 2\r\n\r\nok",
     "MFOTA_ERR_HTTP_TOO_LONG"),
    (b"HTTP/1.1 100 Continue\r\n\r\n" * 1000 + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
     "MFOTA_ERR_HTTP_TOO_LONG"),
    # a body over the caller's buffer, however it is framed
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000, "MFOTA_ERR_NOSPC"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n" + b"x" * 4097,
     "MFOTA_ERR_NOSPC"),
    (b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 4097, "MFOTA_ERR_NOSPC"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "MFOTA_ERR_HTTP_CHUNK"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 17 + b"\r\n",
     "MFOTA_ERR_DL_TOO_LARGE"),  # a chunk of 4 GiB or more
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", "MFOTA_ERR_HTTP_LENGTH"),
])
def test_uplink_response_refusals(raw, error):
    from m2mfota.things import ResponseError, parse_uplink_response

    assert _collect([raw])[0] == error
    with pytest.raises(ResponseError) as info:
        parse_uplink_response(raw, max_body=4096)
    assert info.value.code == error


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Le",
    b"",
])
def test_uplink_response_truncated(raw):
    assert _collect([raw], eof=True)[0] == "MFOTA_ERR_HTTP_SHORT_BODY"
