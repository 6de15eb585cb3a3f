"""The C core's strict ``http://host[:port]/path`` parser."""

from __future__ import annotations

from dataclasses import dataclass

from m2mfota import _args
from m2mfota._errors import M2mfotaError
from m2mfota._native import ffi, lib


class URLError(M2mfotaError, ValueError):
    """A URL the device would refuse; ``.code`` names the C error."""


@dataclass(frozen=True)
class URL:
    host: str
    port: int
    path: str
    ipv4: tuple[int, int, int, int] | None


def parse_url(url: str | bytes) -> URL:
    """Parse like the device does; raises :class:`URLError` on anything else."""
    if isinstance(url, str):
        # surrogatepass: the C parser, not the codec, refuses any non-ASCII
        raw = url.encode("utf-8", "surrogatepass")
    else:
        raw = bytes(_args.buffer("url", url, text=True))
    buf = ffi.from_buffer(raw)
    out = ffi.new("struct mfota_url *")
    rc = lib.mfota_url_parse(buf, len(raw), out)
    if rc != 0:
        raise URLError(rc, repr(url))
    host = ffi.unpack(out.host, out.host_len).decode("ascii")
    path = ffi.unpack(out.path, out.path_len).decode("ascii")
    ipv4 = tuple(out.ipv4) if out.host_is_ipv4 else None
    return URL(host=host, port=out.port, path=path, ipv4=ipv4)
