"""The one place the emulator decodes SenML: the project's own C decoder."""

from __future__ import annotations

from m2mfota.senml import Record, loads


def decode_pack(body: bytes) -> list[Record]:
    """Resolved records (keys among n u v vs vb vd s t ut) of a SenML JSON pack.

    KPN ThingsML is accepted as KPN Things accepts it: ``"i_"`` indexes
    resolve to the measurement's name and unit, and the empty first record
    of a gateway pack is allowed.  Raises ValueError
    (m2mfota.senml.SenMLError, with the C error name and byte offset) when
    the pack is malformed.
    """
    return loads(body, thingsml=True)
