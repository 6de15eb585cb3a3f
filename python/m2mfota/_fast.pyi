"""Type stub of m2mfota._fast, the hand-written extension in python/m2mfota/_ffi/fast.c."""

from typing import Any

#: calls with at least this many bytes release the GIL while hashing
GIL_RELEASE_MIN: int

def crc32(data: bytes | bytearray | memoryview, value: int, /) -> int: ...
def gil_released_last() -> bool: ...
def senml_loads(data: bytes | bytearray | memoryview, mode: int, base_only: bool, /
                ) -> list[dict[str, Any]] | tuple[int, int]: ...
