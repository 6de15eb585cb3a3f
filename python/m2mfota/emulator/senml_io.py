"""The one place the emulator decodes SenML: the project's own C decoder."""

from __future__ import annotations


def decode_pack(body: bytes) -> list[dict]:
    """Resolved records (keys among n u v vs vb vd s t ut) of a SenML JSON pack.

    Raises ValueError (m2mfota.SenMLError) when the pack is malformed.
    """
    from m2mfota.senml import loads  # the cffi-built decoder; imported on first uplink

    return loads(body)
