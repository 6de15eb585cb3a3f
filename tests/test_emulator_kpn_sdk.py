"""Devices built with KPN's own SDK (thingsml-c-library) against the emulator.

The requests below are written byte for byte as the SDK's documented
behaviour produces them: ``ThingsML::httpPost()`` ends the request line and
every header line with a bare ``\\n`` (its unit test expects exactly
``"POST /bla HTTP/1.1\\nHost: 1.1.1.1\\nContent-Type: application/json\\n
Things-Message-Token: ...\\nContent-Length: 137\\n\\n[...]"``), its records
carry ThingsML ``"i_"`` indexes, and a gateway pack starts with an empty
record followed by one base name per device.  They go over raw sockets so
that no client library tidies them up.
"""

from __future__ import annotations

import json
import socket
import zlib

import pytest
from aiohttp import web
from emulator_harness import ServerThread, register, request, sign
from hypothesis import given
from hypothesis import strategies as st

from m2mfota.emulator.background import BackgroundServer
from m2mfota.emulator.fileserver import FileServer
from m2mfota.emulator.lax_http import LfNormalizer
from m2mfota.senml import THINGSML, SenMLError, loads

INGEST = "/ingestion/m2m/senml/v1"
IMEI = "350000000000001"


@pytest.fixture(scope="module")
def server():
    with ServerThread() as srv:
        yield srv


def add_device(port: int, imei: str) -> str:
    return register(port, imei).secret


def sdk_post(host: str, path: str, key: str, body: bytes) -> bytes:
    """The bytes ThingsML::httpPost() writes: bare LF after every line."""
    return (f"POST {path} HTTP/1.1\nHost: {host}\nContent-Type: application/json\n"
            f"Things-Message-Token: {sign(body, key)}\nContent-Length: {len(body)}\n\n"
            ).encode() + body


def exchange(port: int, raw: bytes, *, responses: int = 1) -> list[tuple[int, dict, bytes]]:
    """Send raw bytes, read `responses` HTTP responses (Content-Length framed)."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        buf = b""
        for _ in range(responses):
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, f"connection closed; got {buf!r}"
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip()
                       for k, v in (ln.split(":", 1) for ln in lines[1:])}
            length = int(headers.get("content-length", "0"))
            while len(buf) < length:
                chunk = s.recv(65536)
                assert chunk
                buf += chunk
            out.append((status, headers, buf[:length]))
            buf = buf[length:]
    return out


def uplinks(port: int, imei: str) -> list[dict]:
    return request(port, "GET", f"/api/devices/{imei}/uplinks").json()


# -- bare LF -------------------------------------------------------------------------
def test_sdk_bare_lf_uplink_with_thingsml_index_is_stored_resolved(server):
    key = add_device(server.port, IMEI)
    body = f'[{{"bn":"urn:dev:IMEI:{IMEI}:","i_":-24,"v":21.5}}]'.encode()
    [(status, _, _)] = exchange(server.port, sdk_post("127.0.0.1", INGEST, key, body))
    assert status == 204
    [up] = uplinks(server.port, IMEI)
    assert up["records"] == [{"n": f"urn:dev:IMEI:{IMEI}:temperature", "u": "Cel", "v": 21.5}]


def test_body_bytes_are_not_touched_by_the_head_normaliser(server):
    """A body with bare LFs of its own (pretty JSON) keeps them: the token,
    computed over the exact bytes, still matches; two requests pipelined on
    one connection both get their answer."""
    imei = "350000000000002"
    key = add_device(server.port, imei)
    body1 = json.dumps([{"bn": f"urn:dev:IMEI:{imei}:", "n": "firmware", "vs": "1.0"}],
                       indent=1).encode()
    assert b"\n" in body1
    body2 = f'[{{"bn":"urn:dev:IMEI:{imei}:","i_":5,"v":80}}]'.encode()
    raw = sdk_post("m.m", INGEST, key, body1) + sdk_post("m.m", INGEST, key, body2)
    got = exchange(server.port, raw, responses=2)
    assert [g[0] for g in got] == [204, 204]
    recs = [u["records"] for u in uplinks(server.port, imei)]
    assert recs == [[{"n": f"urn:dev:IMEI:{imei}:batteryLevel", "u": "%EL", "v": 80.0}],
                    [{"n": f"urn:dev:IMEI:{imei}:firmware", "vs": "1.0"}]]


def test_bare_lf_request_on_the_file_server():
    files = FileServer(jwt_secret=b"k" * 32)
    data = bytes(range(256)) * 8
    pub = files.publish(data, device="d")

    def make() -> web.Application:
        app = web.Application()
        files.add_routes(app)
        return app

    with BackgroundServer(make, max_lifetime=60) as srv:
        raw = (f"GET {pub.path} HTTP/1.1\nHost: m.m\nAuthorization: Bearer {pub.token}\n"
               f"Range: bytes=10-99\n\n").encode()
        [(status, headers, body)] = exchange(srv.port, raw)
    assert status == 200
    assert body == data[10:100]
    assert headers["content-range"] == f"bytes 10-99/{len(data)}"
    assert headers["digest"] == f"crc32={zlib.crc32(body):08x}"


def test_strict_crlf_requests_still_work_and_bad_heads_are_still_refused(server):
    [(status, _, _)] = exchange(server.port,
                                b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 401  # parsed and routed: it only lacks the API key
    # a bare CR is no line end: aiohttp still refuses it
    [(status, _, _)] = exchange(server.port, b"GET /api/info HTTP/1.1\rHost: x\r\n\r\n")
    assert status == 400


@given(st.data())
def test_normaliser_output_does_not_depend_on_how_bytes_arrive(data):
    body = b'{"a":\n1}'
    raw = (b"POST /p HTTP/1.1\nHost: h\nContent-Length: " + str(len(body)).encode()
           + b"\n\n" + body + b"GET /q HTTP/1.1\r\nHost: h\n\n")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(raw) - 1), max_size=6)))
    norm = LfNormalizer()
    out = b"".join(norm.feed(raw[a:b]) for a, b in zip([0, *cuts], [*cuts, len(raw)]))
    assert out == (b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n" + body
                   + b"GET /q HTTP/1.1\r\nHost: h\r\n\r\n")


def test_normaliser_steps_aside_for_what_it_does_not_frame():
    norm = LfNormalizer()
    raw = b"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n"
    assert norm.feed(raw) == (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"3\nabc\n0\n\n")
    assert norm.feed(b"x\ny") == b"x\ny"
    two = LfNormalizer()
    head = b"POST / HTTP/1.1\nContent-Length: 1\nContent-Length: 2\n\nab"
    assert two.feed(head).endswith(b"\r\n\r\nab")
    assert two.feed(b"\n") == b"\n"


# -- ThingsML ---------------------------------------------------------------------------
def test_thingsml_table_is_kpn_sdk_enum():
    # ThingsMLMeasurementIndex of thingsml-c-library's senml_enums.h
    assert THINGSML[-24] == ("temperature", "Cel")
    assert THINGSML[-23] == ("humidity", "%RH")
    assert THINGSML[-1][0] == "accelerationZ"
    assert THINGSML[0][0] == "heading"
    assert THINGSML[2] == ("CO2Concentration", "ppm")
    assert THINGSML[14] == ("counter", "count")
    assert sorted(THINGSML) == list(range(-24, 15))
    assert len({name for name, _ in THINGSML.values()}) == 39


def test_sdk_encoder_output_decodes_with_thingsml_option():
    # the exact body of the SDK's own test (thingsml_http single_device_json)
    body = (b'[{"bn":"device-name","i_":-23,"vd":"aG9paG9pAA"},{"i_":-19,"vb":true},'
            b'{"i_":-18,"v":1.500000},{"i_":-24,"v":10},{"i_":-15,"vs":"haihai"}]')
    assert loads(body, thingsml=True) == [
        {"n": "device-namehumidity", "u": "%RH", "vd": "aG9paG9pAA"},
        {"n": "device-namepower", "u": "W", "vb": True},
        {"n": "device-namepressure", "u": "Pa", "v": 1.5},
        {"n": "device-nametemperature", "u": "Cel", "v": 10.0},
        {"n": "device-namebreadth", "u": "m", "vs": "haihai"},
    ]
    with pytest.raises(SenMLError, match="MFOTA_ERR_SENML_MUST_UNDERSTAND"):
        loads(body)  # opt-in only: strict SenML keeps refusing "i_"


@pytest.mark.parametrize("pack, code", [
    (b'[{"bn":"d","i_":-25,"v":1}]', "MFOTA_ERR_SENML_RANGE"),
    (b'[{"bn":"d","i_":15,"v":1}]', "MFOTA_ERR_SENML_RANGE"),
    (b'[{"bn":"d","i_":1.5,"v":1}]', "MFOTA_ERR_SENML_RANGE"),
    (b'[{"bn":"d","i_":1e300,"v":1}]', "MFOTA_ERR_SENML_RANGE"),
    (b'[{"bn":"d","i_":"-24","v":1}]', "MFOTA_ERR_SENML_TYPE"),
    (b'[{"bn":"d","i_":-24,"n":"x","v":1}]', "MFOTA_ERR_SENML_DUPLICATE"),
    (b'[{"bn":"d","i_":-24,"i_":-23,"v":1}]', "MFOTA_ERR_SENML_DUPLICATE"),
    (b'[{"bn":"d","i_":-24}]', "MFOTA_ERR_SENML_NO_VALUE"),
    (b'[{"bn":"d","j_":-24,"v":1}]', "MFOTA_ERR_SENML_MUST_UNDERSTAND"),
])
def test_thingsml_index_errors(pack, code):
    with pytest.raises(SenMLError, match=code):
        loads(pack, thingsml=True)


def test_thingsml_units_explicit_unit_wins_base_unit_does_not():
    recs = loads(b'[{"bn":"d","bu":"K","i_":-24,"v":1},{"i_":-24,"u":"K","v":2},'
                 b'{"n":"x","v":3},{"i_":13,"vb":false}]', thingsml=True)
    assert [r.get("u") for r in recs] == ["Cel", "K", "K", "K"]


def test_empty_record_only_in_thingsml_mode():
    with pytest.raises(SenMLError, match="MFOTA_ERR_SENML_NO_VALUE"):
        loads(b'[{},{"bn":"d","n":"x","v":1}]')
    assert loads(b'[{},{"bn":"d","n":"x","v":1}]', thingsml=True) == [{"n": "dx", "v": 1.0}]


# -- gateway packs ------------------------------------------------------------------------
def gateway_pack(*devices: tuple[str, list[dict]]) -> bytes:
    recs: list[dict] = [{}]
    for imei, records in devices:
        recs.append({"bn": f"urn:dev:IMEI:{imei}:", **records[0]})
        recs.extend(records[1:])
    return json.dumps(recs, separators=(",", ":")).encode()


def test_gateway_pack_is_attributed_per_device(server):
    gw, a, b = "350000000000010", "350000000000011", "350000000000012"
    key = add_device(server.port, gw)
    add_device(server.port, a)
    add_device(server.port, b)
    body = gateway_pack(
        (gw, [{"n": "firmware", "vs": "2.0"}]),
        (a, [{"i_": -24, "v": 19.5}, {"n": "firmware", "vs": "1.1"}]),
        (b, [{"i_": 5, "v": 40}]),
    )
    [(status, _, _)] = exchange(server.port, sdk_post("m.m", INGEST, key, body))
    assert status == 204
    assert uplinks(server.port, gw)[0]["records"] == [
        {"n": f"urn:dev:IMEI:{gw}:firmware", "vs": "2.0"}]
    assert uplinks(server.port, a)[0]["records"] == [
        {"n": f"urn:dev:IMEI:{a}:temperature", "u": "Cel", "v": 19.5},
        {"n": f"urn:dev:IMEI:{a}:firmware", "vs": "1.1"}]
    assert uplinks(server.port, b)[0]["records"] == [
        {"n": f"urn:dev:IMEI:{b}:batteryLevel", "u": "%EL", "v": 40.0}]
    dev_a = request(server.port, "GET", f"/api/devices/{a}").json()
    assert dev_a["reported"]["firmware"] == "1.1" and dev_a["last_seen"] is not None


def test_gateway_pack_is_signed_by_its_first_device_and_names_only_known_ones(server):
    gw, a = "350000000000020", "350000000000021"
    add_device(server.port, gw)
    key_a = add_device(server.port, a)
    body = gateway_pack((gw, [{"n": "x", "v": 1}]), (a, [{"n": "y", "v": 2}]))
    [(status, _, _)] = exchange(server.port, sdk_post("m.m", INGEST, key_a, body))
    assert status == 401  # signed by the second device: not the gateway
    assert uplinks(server.port, gw) == [] and uplinks(server.port, a) == []


def test_gateway_pack_naming_an_unregistered_device_is_400(server):
    gw = "350000000000030"
    key = add_device(server.port, gw)
    body = gateway_pack((gw, [{"n": "x", "v": 1}]), ("999", [{"n": "y", "v": 2}]))
    [(status, _, answer)] = exchange(server.port, sdk_post("m.m", INGEST, key, body))
    assert status == 400 and b"999" in answer
    assert uplinks(server.port, gw) == []  # nothing stored


@pytest.mark.parametrize("n, result", enumerate(["1e300", str(2**63), "-1", "2.5"]))
def test_out_of_range_fota_result_is_400_not_500(server, n, result):
    imei = f"35000000000004{n}"
    key = add_device(server.port, imei)
    body = (f'[{{"bn":"urn:dev:IMEI:{imei}:","n":"fota.result","v":{result}}}]').encode()
    [(status, _, answer)] = exchange(server.port, sdk_post("m.m", INGEST, key, body))
    assert status == 400 and b"fota.result" in answer
