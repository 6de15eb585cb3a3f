"""The strict URL parser: what a downlink may carry, and everything refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m2mfota.url import URLError, parse_url


def test_kpn_example():
    u = parse_url("http://10.151.236.136/f/v1/c5801012-31c8-4346-9963-cf317f1b5aa3")
    assert (u.host, u.port, u.ipv4) == ("10.151.236.136", 80, (10, 151, 236, 136))
    assert u.path == "/f/v1/c5801012-31c8-4346-9963-cf317f1b5aa3"


def test_port_and_name_and_query():
    u = parse_url("http://fota.example.com:8080/f/v1/x?a=1")
    assert (u.host, u.port, u.ipv4, u.path) == ("fota.example.com", 8080, None, "/f/v1/x?a=1")


@pytest.mark.parametrize(
    "url,code",
    [
        ("https://1.2.3.4/x", "MFOTA_ERR_URL_SCHEME"),
        ("ftp://1.2.3.4/x", "MFOTA_ERR_URL_SCHEME"),
        ("HTTP://1.2.3.4/x", "MFOTA_ERR_URL_SCHEME"),
        ("http:/1.2.3.4/x", "MFOTA_ERR_URL_SCHEME"),
        ("", "MFOTA_ERR_URL_SCHEME"),
        ("http:///x", "MFOTA_ERR_URL_HOST"),
        ("http://user@1.2.3.4/x", "MFOTA_ERR_URL_HOST"),
        ("http://1.2.3.256/x", "MFOTA_ERR_URL_HOST"),
        ("http://01.2.3.4/x", "MFOTA_ERR_URL_HOST"),
        ("http://1.2.3/x", "MFOTA_ERR_URL_HOST"),
        ("http://-bad.example/x", "MFOTA_ERR_URL_HOST"),
        ("http://bad_host/x", "MFOTA_ERR_URL_HOST"),
        ("http://1.2.3.4:0/x", "MFOTA_ERR_URL_PORT"),
        ("http://1.2.3.4:65536/x", "MFOTA_ERR_URL_PORT"),
        ("http://1.2.3.4:/x", "MFOTA_ERR_URL_PORT"),
        ("http://1.2.3.4:80a/x", "MFOTA_ERR_URL_PORT"),
        ("http://1.2.3.4", "MFOTA_ERR_URL_PATH"),
        ("http://1.2.3.4:80", "MFOTA_ERR_URL_PATH"),
        ("http://1.2.3.4/x#frag", "MFOTA_ERR_URL_PATH"),
        ("http://1.2.3.4/a b", "MFOTA_ERR_URL_CHAR"),
        ("http://1.2.3.4/a\r\nHost: evil", "MFOTA_ERR_URL_CHAR"),
        ("http://1.2.3.4/a\n", "MFOTA_ERR_URL_CHAR"),
        ("http://1.2.3.4/a\x00", "MFOTA_ERR_URL_CHAR"),
        ("http://1.2.3.4/a\x7f", "MFOTA_ERR_URL_CHAR"),
        ("http://1.2.3.4/\u00e9", "MFOTA_ERR_URL_CHAR"),
        ("http://1.2.3.4/" + "a" * 300, "MFOTA_ERR_URL_TOO_LONG"),
    ],
)
def test_refused(url, code):
    with pytest.raises(URLError) as exc:
        parse_url(url)
    assert exc.value.code == code


@given(
    quad=st.tuples(*[st.integers(0, 255)] * 4),
    port=st.integers(1, 65535),
    path=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                                        blacklist_characters="#"), max_size=60),
)
def test_valid_ipv4_urls_round_trip(quad, port, path):
    host = ".".join(map(str, quad))
    u = parse_url(f"http://{host}:{port}/{path}")
    assert (u.host, u.port, u.ipv4, u.path) == (host, port, quad, "/" + path)


@given(st.binary(max_size=80))
def test_arbitrary_bytes_never_crash(raw):
    try:
        u = parse_url(raw)
    except URLError:
        return
    assert raw.startswith(b"http://") and all(0x20 < b < 0x7F for b in raw)
    assert u.path.startswith("/")
