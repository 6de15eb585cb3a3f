"""Type names shared by the emulator's modules.

JSON crosses the emulator's edges (API bodies, stored records, SenML): it is
typed as what ``json.loads`` gives, and each handler checks the shape it
needs before use.  Rows that leave the database as API answers have their
own ``TypedDict`` where a caller reads fields back.
"""

from __future__ import annotations

from typing import Any, TypedDict

from m2mfota.senml import Record

__all__ = ["Downlink", "FirmwareInfo", "JsonObject", "Record"]

#: A JSON object: a request body after ``json.loads`` (checked field by field
#: where it is read) or an answer being built (only serialised).
JsonObject = dict[str, Any]

#: A FOTA command: the SenML records of a downlink pack.
Downlink = list[Record]


class FirmwareInfo(TypedDict):
    """One stored firmware file as the API shows it (no data)."""

    id: int
    version: str
    kind: str          #: "mcuboot" or "binary"
    filename: str
    size: int
    crc32: str         #: 8 lowercase hex digits, whole file
    sha256: str        #: 64 lowercase hex digits, whole file
    created: float     #: Unix time of the upload
