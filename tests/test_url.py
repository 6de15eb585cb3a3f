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


@pytest.mark.parametrize(
    "host",
    ["0x7f.0.0.1", "0x7f000001", "0x7f.1", "0X7F.0.0.1", "127.1", "127.0.1", "2130706433",
     "0x", "1.2.3.0x4", "example.0x10", "example.123", "010.0.0.1", "0177.0.0.1"],
)
def test_non_dotted_decimal_ipv4_forms_refused(host):
    # A resolver (inet_aton, URL parsers) reads each of these as an address:
    # accepting them as names would connect somewhere the quad does not say.
    with pytest.raises(URLError) as exc:
        parse_url(f"http://{host}/f")
    assert exc.value.code == "MFOTA_ERR_URL_HOST"


@pytest.mark.parametrize("host", ["0x7f.example", "a0x1.com", "x1", "1a.2b", "example.com1x"])
def test_names_with_digits_still_accepted(host):
    assert parse_url(f"http://{host}/f").host == host


_PART = st.integers(0, 0xFFFFFFFF)


@st.composite
def _ipv4_forms(draw):
    """1-4 numbers, each written in decimal, hex (0x) or octal (leading 0)."""
    parts = draw(st.lists(_PART, min_size=1, max_size=4))
    out = []
    for n in parts:
        style = draw(st.sampled_from(["dec", "hex", "HEX", "oct"]))
        out.append({"dec": str(n), "hex": f"0x{n:x}", "HEX": f"0X{n:X}", "oct": f"0{n:o}"}[style])
    return ".".join(out)


@given(_ipv4_forms())
def test_only_canonical_dotted_quads_accepted(host):
    labels = host.split(".")
    canonical = len(labels) == 4 and all(
        lab.isdigit() and int(lab) <= 255 and str(int(lab)) == lab for lab in labels
    )
    try:
        u = parse_url(f"http://{host}/f")
    except URLError as exc:
        assert not canonical
        assert exc.code == "MFOTA_ERR_URL_HOST"
    else:
        assert canonical and u.ipv4 == tuple(int(x) for x in labels)
