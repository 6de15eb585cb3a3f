"""KPN Things M2M messages through the C core: the downlink's FOTA command,
the uplink request, and the uplink's HTTP response (framed by the same C
parser as the download's responses)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from m2mfota import _args
from m2mfota._checksums import sha256
from m2mfota._errors import ERR, M2mfotaError
from m2mfota._native import ffi, lib
from m2mfota.senml import Buffer, _as_bytes, _entries

__all__ = [
    "DownlinkError",
    "FotaCommand",
    "ResponseError",
    "UplinkResponse",
    "build_uplink",
    "parse_downlink",
    "parse_uplink_response",
    "status_records",
    "uplink_token",
]

UPLINK_PATH = "/ingestion/m2m/senml/v1"


class DownlinkError(M2mfotaError, ValueError):
    """A downlink that is not a valid FOTA command for this device.

    ``.code`` is the C error's name: ``MFOTA_ERR_THINGS_*``, a SenML decoder
    error or an ``MFOTA_ERR_URL_*`` code; ``.offset`` where in the body."""

    def __init__(self, code: int | str, message: str = "", offset: int | None = None) -> None:
        self.offset = offset
        super().__init__(code, message)


class ResponseError(M2mfotaError, ValueError):
    """An uplink response the device refuses (``MFOTA_ERR_HTTP_*``)."""


@dataclass(frozen=True)
class FotaCommand:
    url: str
    token: str
    size: int | None = None
    crc32: int | None = None
    sha256: bytes | None = None
    version: str | None = None


def parse_downlink(body: Buffer, imei: str) -> FotaCommand:
    """Extract the FOTA command from a downlink body, as the device does."""
    raw = _as_bytes(body, "body")
    imei_b = _args.text("imei", imei, ascii=True).encode("ascii")
    buf = ffi.from_buffer(raw)
    cmd = ffi.new("struct mfota_fota_command *")
    off = ffi.new("size_t *")
    rc = lib.mfota_things_parse_downlink(buf, len(buf), imei_b, len(imei_b), cmd, off)
    if rc != 0:
        raise DownlinkError(rc, "refused downlink", off[0])
    return FotaCommand(
        url=ffi.unpack(cmd.url, cmd.url_len).decode("ascii"),
        token=ffi.unpack(cmd.token, cmd.token_len).decode("ascii"),
        size=cmd.size if cmd.has_size else None,
        crc32=cmd.crc32 if cmd.has_crc32 else None,
        sha256=bytes(cmd.sha256) if cmd.has_sha256 else None,
        version=ffi.unpack(cmd.version, cmd.version_len).decode("ascii")
        if cmd.has_version
        else None,
    )


def uplink_token(body: bytes, secret: str | bytes) -> str:
    """``Things-Message-Token``: lowercase hex SHA-256 of body ‖ secret
    (``secret`` as bytes, or str taken as UTF-8)."""
    raw = _args.buffer("body", body)
    key = _args.buffer("secret", secret, text=True)
    h = sha256(raw)
    h.update(key)
    return h.hexdigest()


def build_uplink(
    records: Iterable[Mapping[str, Any]],
    *,
    imei: str,
    secret: str | bytes,
    host: str = "m.m",
) -> bytes:
    """The complete uplink HTTP request for ``records`` (dicts as for
    :func:`m2mfota.senml.dumps`, names relative to ``urn:dev:IMEI:<imei>:``).
    ``secret`` is the device's shared secret: bytes, or str taken as UTF-8."""
    recs = _args.iterable("records", records)
    imei_b = _args.text("imei", imei, ascii=True).encode("ascii")
    secret_b = bytes(_args.buffer("secret", secret, text=True))
    host_b = _args.text("host", host, ascii=True).encode("ascii")
    keep: list[Any] = []
    entries, count = _entries(recs, None, None, keep)
    count = len(recs)
    needed = ffi.new("size_t *")
    args = (imei_b, len(imei_b), secret_b, len(secret_b), host_b, entries, count)
    rc = lib.mfota_things_build_uplink(ffi.NULL, 0, needed, *args)
    if rc < 0 and rc != ERR["MFOTA_ERR_NOSPC"]:
        raise M2mfotaError(rc, "cannot build the uplink")
    out = ffi.new("char[]", needed[0])
    rc = lib.mfota_things_build_uplink(out, needed[0], needed, *args)
    if rc != 0:
        raise M2mfotaError(rc, "cannot build the uplink")
    return ffi.unpack(out, needed[0])


def status_records(
    *,
    firmware: str | None = None,
    state: str | None = None,
    progress: int | None = None,
    result: int | None = None,
    error: str | None = None,
) -> list[dict[str, Any]]:
    """The update-status records the C core would send (``progress`` a
    percentage, above 100 sent as 100; ``result`` a LwM2M /5 result code)."""
    for name, value in (("firmware", firmware), ("state", state), ("error", error)):
        _args.optional_text(name, value)
    _args.optional_integer("progress", progress, 0, _args.INT_MAX)  # C clamps to 100
    _args.optional_integer("result", result, 0, _args.INT_MAX)
    keep = []

    def cstr(s: str | None) -> Any:
        if s is None:
            return ffi.NULL
        c = ffi.new("char[]", s.encode("utf-8"))
        keep.append(c)
        return c

    st = ffi.new("struct mfota_things_status *")
    st.firmware, st.state, st.error = cstr(firmware), cstr(state), cstr(error)
    st.progress = -1 if progress is None else progress
    st.result = -1 if result is None else result
    out = ffi.new("struct mfota_senml_entry[5]")
    n = lib.mfota_things_status_entries(st, out)
    records = []
    for e in out[0:n]:
        r: dict[str, Any] = {"n": ffi.unpack(e.n, e.n_len).decode()}
        if e.u != ffi.NULL:
            r["u"] = ffi.unpack(e.u, e.u_len).decode()
        if e.kind == lib.MFOTA_SENML_KIND_NUM:
            r["v"] = e.v
        else:
            r["vs"] = ffi.unpack(e.vs, e.vs_len).decode()
        records.append(r)
    return records


@dataclass(frozen=True)
class UplinkResponse:
    status: int
    body: bytes


def parse_uplink_response(raw: _args.BytesLike, *, max_body: int = 65536,
                          eof: bool = True) -> UplinkResponse:
    """Frame an uplink's HTTP response as the device does, with the same
    parser as the download (``mfota_http_response_collect``).  ``eof``: the
    connection closed after ``raw`` (ends a close-delimited body).  Bytes
    after the message are ignored.  Raises :class:`ResponseError` naming the
    C error (``MFOTA_ERR_HTTP_*``; ``MFOTA_ERR_NOSPC`` for a body over
    ``max_body``; ``MFOTA_NEED_MORE`` when the response is incomplete and
    ``eof`` is false)."""
    raw = _args.buffer("raw", raw)
    max_body = _args.integer("max_body", max_body, 0, 1 << 24)
    if not isinstance(eof, bool):
        raise TypeError(f"eof must be a bool, not {type(eof).__name__}")
    r = ffi.new("struct mfota_http_response *")
    lib.mfota_http_response_init(r)
    body = ffi.new("uint8_t[]", max(max_body, 1))
    used = ffi.new("size_t *")
    data = bytes(raw)
    rc = lib.mfota_http_response_collect(r, data, len(data), used, body, max_body)
    if rc == ERR["MFOTA_NEED_MORE"] and eof:
        rc = lib.mfota_http_response_collect_eof(r)
    if rc != ERR["MFOTA_DONE"]:
        raise ResponseError(rc, f"uplink response refused after {used[0]} bytes")
    return UplinkResponse(status=r.status, body=ffi.unpack(ffi.cast("char *", body), r.body_len))
