"""The FOTA command extractor of the C core (docs/protocol.md §2)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import m2mfota
from m2mfota._errors import ERR
from m2mfota.things import FotaCommand, parse_downlink

IMEI = "0123456789abcdef"
URL = "http://10.151.236.136/f/v1/c5801012-31c8-4346-9963-cf317f1b5aa3"
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"

# KPN's own example: the strings sit under "v".
KPN_EXAMPLE = (
    '[{"bn":"urn:dev:IMEI:0123456789abcdef:"},\n'
    ' {"n":"url","v":"' + URL + '"},\n'
    ' {"n":"token","v":"' + TOKEN + '"}]'
)


def pack(url=URL, token=TOKEN, bn=f"urn:dev:IMEI:{IMEI}:", extra=(), key="vs"):
    recs = []
    if bn is not None:
        recs.append({"bn": bn})
    if url is not None:
        recs.append({"n": "url", key: url})
    if token is not None:
        recs.append({"n": "token", key: token})
    recs.extend(extra)
    return json.dumps(recs).encode()


def refused(body, code, imei=IMEI):
    with pytest.raises(m2mfota.DownlinkError) as info:
        parse_downlink(body, imei)
    assert info.value.code == code, info.value
    assert isinstance(info.value, ValueError)
    return info.value


def test_kpn_example_with_strings_under_v():
    assert parse_downlink(KPN_EXAMPLE, IMEI) == FotaCommand(url=URL, token=TOKEN)


def test_same_command_with_vs():
    assert parse_downlink(pack(), IMEI) == FotaCommand(url=URL, token=TOKEN)


def test_without_base_name():
    assert parse_downlink(pack(bn=None), IMEI) == FotaCommand(url=URL, token=TOKEN)


def test_base_name_prefix_is_case_insensitive_but_imei_is_not():
    assert parse_downlink(pack(bn=f"URN:DEV:imei:{IMEI}:"), IMEI).url == URL
    refused(pack(bn=f"urn:dev:IMEI:{IMEI.upper()}:"), "MFOTA_ERR_THINGS_WRONG_DEVICE")


@pytest.mark.parametrize(
    "bn",
    ["urn:dev:IMEI:0123456789abcdee:", "urn:dev:IMEI:0123456789abcdef", "urn:dev:IMEI::",
     "urn:dev:IMEI:0123456789abcdef:x:", "urn:dev:mac:0123456789abcdef:", "x"],
)
def test_another_device_is_refused(bn):
    refused(pack(bn=bn), "MFOTA_ERR_THINGS_WRONG_DEVICE")


def test_a_later_base_name_for_another_device_is_refused():
    body = pack(extra=[{"bn": "urn:dev:IMEI:999:", "n": "x", "v": 1}])
    refused(body, "MFOTA_ERR_THINGS_WRONG_DEVICE")


def test_optional_fields():
    data = b"firmware image"
    extra = [
        {"n": "size", "v": len(data)},
        {"n": "crc32", "vs": "0a1B2c3D"},
        {"n": "sha256", "vs": hashlib.sha256(data).hexdigest().upper()},
        {"n": "version", "vs": "1.4.3"},
        {"n": "unrelated", "v": 5},
    ]
    cmd = parse_downlink(pack(extra=extra), IMEI)
    assert cmd == FotaCommand(url=URL, token=TOKEN, size=len(data), crc32=0x0A1B2C3D,
                              sha256=hashlib.sha256(data).digest(), version="1.4.3")


def test_short_crc32_is_zero_padded():
    assert parse_downlink(pack(extra=[{"n": "crc32", "vs": "1f"}]), IMEI).crc32 == 0x1F


@pytest.mark.parametrize(
    "url,code",
    [
        ("https://10.0.0.1/f", "MFOTA_ERR_URL_SCHEME"),
        ("ftp://10.0.0.1/f", "MFOTA_ERR_URL_SCHEME"),
        ("http://10.0.0.1", "MFOTA_ERR_URL_PATH"),
        ("http://10.0.0.1/f#frag", "MFOTA_ERR_URL_PATH"),
        ("http:///f", "MFOTA_ERR_URL_HOST"),
        ("http://user@10.0.0.1/f", "MFOTA_ERR_URL_HOST"),
        ("http://10.0.0.1:0/f", "MFOTA_ERR_URL_PORT"),
        ("http://10.0.0.1:65536/f", "MFOTA_ERR_URL_PORT"),
        ("http://10.0.0.1/f g", "MFOTA_ERR_URL_CHAR"),
        ("http://10.0.0.1/f\r", "MFOTA_ERR_URL_CHAR"),
        ("http://10.0.0.1/f\nHost: evil", "MFOTA_ERR_URL_CHAR"),
        ("http://10.0.0.1/f\t", "MFOTA_ERR_URL_CHAR"),
        ("http://10.0.0.1/f\x00", "MFOTA_ERR_URL_CHAR"),
        ("http://10.0.0.1/f\x7f", "MFOTA_ERR_URL_CHAR"),
        ("http://10.0.0.1/f\u00e9", "MFOTA_ERR_URL_CHAR"),
        ("http://10.0.0.1/" + "a" * 300, "MFOTA_ERR_URL_TOO_LONG"),
    ],
)
def test_bad_urls_are_refused(url, code):
    refused(pack(url=url), code)


def test_url_that_is_not_a_string():
    refused(pack(url=42, key="v"), "MFOTA_ERR_THINGS_BAD_URL")
    refused(json.dumps([{"n": "url", "vb": True}, {"n": "token", "vs": "t"}]),
            "MFOTA_ERR_THINGS_BAD_URL")


@pytest.mark.parametrize(
    "token,code",
    [
        ("abc def", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\rdef", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\ndef", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\r\nX-Evil: 1", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\tdef", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\x00def", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\x1fdef", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\x7fdef", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("abc\u00e9", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("", "MFOTA_ERR_THINGS_BAD_TOKEN"),
        ("x" * 1025, "MFOTA_ERR_THINGS_TOKEN_TOO_LONG"),
    ],
)
def test_bad_tokens_are_refused(token, code):
    refused(pack(token=token), code)


def test_token_that_is_not_a_string():
    refused(pack(token=1.5, key="v"), "MFOTA_ERR_THINGS_BAD_TOKEN")


def test_1024_byte_token_is_accepted():
    token = ("eyJ" + "A" * 2000)[:1024]
    assert parse_downlink(pack(token=token), IMEI).token == token


def test_escaped_token_is_decoded():
    body = b'[{"n":"url","vs":"http:\\/\\/1.2.3.4\\/f"},{"n":"token","vs":"a\\u0062c"}]'
    assert parse_downlink(body, IMEI) == FotaCommand(url="http://1.2.3.4/f", token="abc")


@pytest.mark.parametrize(
    "body,code",
    [
        (pack(url=None), "MFOTA_ERR_THINGS_NO_URL"),
        (pack(token=None), "MFOTA_ERR_THINGS_NO_TOKEN"),
        (pack(url=None, token=None), "MFOTA_ERR_THINGS_NOT_FOTA"),
        (b"", "MFOTA_ERR_THINGS_NOT_FOTA"),
        (b" \r\n", "MFOTA_ERR_THINGS_NOT_FOTA"),
        (b"[]", "MFOTA_ERR_THINGS_NOT_FOTA"),
        (b'[{"n":"temperature","v":21.5}]', "MFOTA_ERR_THINGS_NOT_FOTA"),
        (pack(extra=[{"n": "url", "vs": URL}]), "MFOTA_ERR_THINGS_DUPLICATE"),
        (pack(extra=[{"n": "size", "v": -1}]), "MFOTA_ERR_THINGS_BAD_SIZE"),
        (pack(extra=[{"n": "size", "v": 1.5}]), "MFOTA_ERR_THINGS_BAD_SIZE"),
        (pack(extra=[{"n": "size", "v": 2.0**54}]), "MFOTA_ERR_DL_TOO_LARGE"),
        (pack(extra=[{"n": "size", "vs": "10"}]), "MFOTA_ERR_THINGS_BAD_SIZE"),
        (pack(extra=[{"n": "crc32", "vs": "123456789"}]), "MFOTA_ERR_THINGS_BAD_CRC32"),
        (pack(extra=[{"n": "crc32", "vs": "12g4"}]), "MFOTA_ERR_THINGS_BAD_CRC32"),
        (pack(extra=[{"n": "crc32", "vs": ""}]), "MFOTA_ERR_THINGS_BAD_CRC32"),
        (pack(extra=[{"n": "crc32", "v": 1234}]), "MFOTA_ERR_THINGS_BAD_CRC32"),
        (pack(extra=[{"n": "sha256", "vs": "ab" * 31}]), "MFOTA_ERR_THINGS_BAD_SHA256"),
        (pack(extra=[{"n": "sha256", "vs": "zz" * 32}]), "MFOTA_ERR_THINGS_BAD_SHA256"),
        (pack(extra=[{"n": "version", "vs": ""}]), "MFOTA_ERR_THINGS_BAD_VERSION"),
        (pack(extra=[{"n": "version", "vs": "1.0 beta"}]), "MFOTA_ERR_THINGS_BAD_VERSION"),
        (pack(extra=[{"n": "version", "vs": "v" * 33}]), "MFOTA_ERR_THINGS_BAD_VERSION"),
        (pack(extra=[{"n": "version", "v": 2}]), "MFOTA_ERR_THINGS_BAD_VERSION"),
        (pack(bn="urn:dev:IMEI:1:"), "MFOTA_ERR_THINGS_WRONG_DEVICE"),
        (b'[{"n":"url","vs":"http://a/b"}', "MFOTA_ERR_SENML_SYNTAX"),
        (b'[{"n":"url","vs":"http://a/b","vs":"x"}]', "MFOTA_ERR_SENML_DUPLICATE"),
        (pack(url=42, key="v"), "MFOTA_ERR_THINGS_BAD_URL"),
        (pack(token=42, key="v"), "MFOTA_ERR_THINGS_BAD_TOKEN"),
        (pack(token="x" * 1025), "MFOTA_ERR_THINGS_TOKEN_TOO_LONG"),
    ],
)
def test_downlink_errors(body, code):
    refused(body, code)


def test_every_downlink_error_code_has_a_test():
    tested = {c for _, c in test_downlink_errors.pytestmark[0].args[1]}
    defined = {n for n in ERR if n.startswith("MFOTA_ERR_THINGS_") and "_HTTP_" not in n}
    assert defined <= tested


@pytest.mark.parametrize("size", [2**32, 2**32 + 1, 2**40, 2**53 + 1, 1e300, 4294967296.5])
def test_a_size_of_4_gib_or_more_is_refused_not_truncated(size):
    # Sizes are 32-bit: no slot holds such a file, and 2**32 must not
    # become 0 (nor 2**32 + 1 become 1).
    refused(pack(extra=[{"n": "size", "v": size}]), "MFOTA_ERR_DL_TOO_LARGE")


def test_the_largest_32_bit_size_is_kept():
    assert parse_downlink(pack(extra=[{"n": "size", "v": 2**32 - 1}]), IMEI).size == 2**32 - 1


def test_senml_error_offset_passes_through():
    body = b'[{"n":"url","vs":"http://a/b"},{"n":"token","v":tru}]'
    err = refused(body, "MFOTA_ERR_SENML_SYNTAX")
    assert err.offset == 48


def test_imei_must_be_given():
    with pytest.raises(m2mfota.DownlinkError) as info:
        parse_downlink(pack(), "")
    assert info.value.code == "MFOTA_ERR_INVAL"


hosts = st.one_of(
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))),
    st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z][a-z0-9]{0,10}){0,2}", fullmatch=True),
)
paths = st.from_regex(r"/[A-Za-z0-9._~/-]{0,60}", fullmatch=True)
token_text = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                     min_size=1, max_size=1024)


@given(host=hosts, port=st.one_of(st.none(), st.integers(1, 65535)), path=paths,
       token=token_text, key=st.sampled_from(["v", "vs"]), ensure_ascii=st.booleans(),
       with_bn=st.booleans(), imei=st.from_regex(r"[0-9]{15}", fullmatch=True),
       size=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
       crc=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
       digest=st.one_of(st.none(), st.binary(min_size=32, max_size=32)),
       version=st.one_of(st.none(), st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}",
                                                  fullmatch=True)))
def test_generated_commands_round_trip(host, port, path, token, key, ensure_ascii, with_bn,
                                       imei, size, crc, digest, version):
    url = f"http://{host}{'' if port is None else f':{port}'}{path}"
    recs = [{"bn": f"urn:dev:IMEI:{imei}:"}] if with_bn else []
    recs += [{"n": "token", key: token}, {"n": "url", key: url}]
    if size is not None:
        recs.append({"n": "size", "v": size})
    if crc is not None:
        recs.append({"n": "crc32", "vs": f"{crc:08x}"})
    if digest is not None:
        recs.append({"n": "sha256", "vs": digest.hex()})
    if version is not None:
        recs.append({"n": "version", "vs": version})
    body = json.dumps(recs, ensure_ascii=ensure_ascii).encode()
    assert parse_downlink(body, imei) == FotaCommand(url=url, token=token, size=size, crc32=crc,
                                                     sha256=digest, version=version)
