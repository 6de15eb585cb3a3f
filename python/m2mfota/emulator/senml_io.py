"""The one place the emulator decodes SenML: the project's own C decoder."""

from __future__ import annotations

from m2mfota.senml import loads


def decode_pack(body: bytes) -> list[dict]:
    """Resolved records (keys among n u v vs vb vd s t ut) of a SenML JSON pack.

    Raises ValueError (m2mfota.senml.SenMLError) when the pack is malformed.
    """
    return loads(body)
