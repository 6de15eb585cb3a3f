"""Delta updates: detools patches applied by the C applier (delta.c).

detools (the Python package) is the independent producer: every patch here
is made by it, except the hand-made ones that exercise a specific refusal.
Images are compared byte for byte with what detools was given."""

from __future__ import annotations

import hashlib
import io
import random

import detools
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m2mfota import delta
from m2mfota._errors import ERR
from m2mfota._native import ffi, lib
from m2mfota.delta import DeltaApplier, DeltaError, apply_patch, create_patch
from m2mfota.flash import FlashRegion, FlashWriter, HalFailure, NorFlash, PowerCut
from m2mfota.flash._hal import FlashHal

SECTOR = 1024
PROGRAM = 8


def detools_patch(old: bytes, new: bytes, compression: str, **kw) -> bytes:
    out = io.BytesIO()
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, compression=compression,
                         patch_type="sequential", **kw)
    return out.getvalue()


def firmware_like(rng: random.Random, n: int) -> bytes:
    """Code-like bytes: repeated short words with small variations."""
    words = [rng.getrandbits(32).to_bytes(4, "little") for _ in range(64)]
    return b"".join(rng.choice(words) for _ in range(n // 4 + 1))[:n]


class Device:
    """One NOR chip: the source (running image) region, then the update slot."""

    def __init__(self, old: bytes, slot: int = 64 * SECTOR) -> None:
        self.src_size = max(SECTOR, -(-len(old) // SECTOR) * SECTOR)
        self.flash = NorFlash(self.src_size + slot, SECTOR, PROGRAM)
        padded = old + b"\xff" * (-len(old) % PROGRAM)
        self.flash.data[: len(padded)] = padded  # factory-programmed running image
        self.old = old
        self.slot = FlashRegion(self.flash, self.src_size, slot)

    def applier(self, sha256: bytes | None = None, check: bool = True) -> DeltaApplier:
        if check and sha256 is None:
            sha256 = hashlib.sha256(self.old).digest()
        writer = FlashWriter(self.slot)
        return DeltaApplier(self.flash, writer, source_size=len(self.old), source_sha256=sha256)

    def image(self, n: int) -> bytes:
        return bytes(self.flash.data[self.src_size : self.src_size + n])

    def source_intact(self) -> bool:
        return bytes(self.flash.data[: len(self.old)]) == self.old


def apply_in_splits(dev: Device, patch: bytes, cuts: list[int]) -> DeltaApplier:
    a = dev.applier()
    bounds = [0, *sorted(set(c % (len(patch) + 1) for c in cuts)), len(patch)]
    done = False
    for lo, hi in zip(bounds, bounds[1:]):
        done = a.feed(patch[lo:hi]) or done
    assert done  # the feed with the last byte completes the image
    a.finish()
    return a


# ---- pairs of images --------------------------------------------------------


@st.composite
def image_pairs(draw):
    kind = draw(st.sampled_from(["random", "edit", "insert", "delete", "empty_old",
                                 "empty_new", "both_empty", "equal", "mixed"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    n = draw(st.integers(1, 6000))
    old = firmware_like(rng, n)
    if kind == "random":
        new = rng.randbytes(draw(st.integers(0, 3000)))
    elif kind == "edit":
        b = bytearray(old)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.getrandbits(8)
        new = bytes(b)
    elif kind == "insert":
        at = rng.randrange(len(old) + 1)
        new = old[:at] + rng.randbytes(rng.randint(1, 300)) + old[at:]
    elif kind == "delete":
        at = rng.randrange(len(old))
        new = old[:at] + old[at + rng.randint(1, 300):]
    elif kind == "empty_old":
        old, new = b"", old
    elif kind == "empty_new":
        new = b""
    elif kind == "both_empty":
        old = new = b""
    elif kind == "equal":
        new = old
    else:
        b = bytearray(old)
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(b) + 1)
            if rng.random() < 0.5:
                b[at:at] = rng.randbytes(rng.randint(1, 64))
            else:
                del b[at:at + rng.randint(1, 64)]
        new = bytes(b)
    return old, new


@settings(max_examples=150)
@given(image_pairs(), st.sampled_from(["heatshrink", "none"]),
       st.lists(st.integers(0, 10**6), max_size=12))
def test_detools_patches_apply_bit_exactly_in_any_split(pair, compression, cuts):
    old, new = pair
    patch = detools_patch(old, new, compression)
    dev = Device(old)
    a = apply_in_splits(dev, patch, cuts)
    assert a.to_size == len(new) and a.written == len(new)
    assert dev.image(len(new)) == new
    assert dev.source_intact()


@pytest.mark.parametrize("compression", ["heatshrink", "none"])
def test_one_byte_feeds_and_heatshrink_windows(compression):
    rng = random.Random(7)
    old = firmware_like(rng, 40000)
    b = bytearray(old)
    b[1000:1000] = b"version 1.2.4 with a fix"
    b[30000:30016] = rng.randbytes(16)
    new = bytes(b)
    sizes = []
    for window, lookahead in ((8, 7), (8, 4), (6, 3), (4, 3)):
        patch = detools_patch(old, new, compression, heatshrink_window_sz2=window,
                              heatshrink_lookahead_sz2=lookahead)
        dev = Device(old)
        apply_in_splits(dev, patch, list(range(1, len(patch))))
        assert dev.image(len(new)) == new
        sizes.append(len(patch))
        if compression == "none":
            break
    # A small change to firmware-like data: with detools' default window the
    # patch is a few percent of the image.
    if compression == "heatshrink":
        assert sizes[0] < len(new) // 20


def test_apply_patch_and_create_patch_helpers():
    rng = random.Random(3)
    old = firmware_like(rng, 5000)
    new = old[:2000] + b"new code" + old[2000:]
    for compression in ("heatshrink", "none"):
        patch = create_patch(old, new, compression)
        assert apply_patch(old, patch, chunk=13) == new
        assert delta.patch_info(patch).to_size == len(new)
        assert delta.patch_info(patch).compression == compression


def test_ram_bound():
    # sizeof(struct mfota_delta) within the bound delta.h documents, and the
    # bound is the documented formula: window + two buffers + 96.
    assert delta.RAM_SIZE <= delta.RAM_BOUND
    assert delta.RAM_BOUND == (1 << delta.WINDOW_SZ2_MAX) + 2 * 64 + 96 == 480


# ---- refusals ---------------------------------------------------------------


def code_of(dev: Device, patch: bytes, **kw) -> str:
    with pytest.raises(DeltaError) as info:
        a = dev.applier(**kw)
        a.feed(patch)
        a.finish()
    return info.value.code


def slot_untouched(dev: Device) -> bool:
    return dev.flash.erases == 0 and dev.flash.programs == 0


def test_wrong_source_is_refused_before_any_write():
    rng = random.Random(11)
    old = firmware_like(rng, 8000)
    new = old[:100] + b"patched" + old[100:]
    patch = detools_patch(old, new, "heatshrink")
    other = bytearray(old)
    other[4000] ^= 1
    dev = Device(bytes(other))
    assert code_of(dev, patch, sha256=hashlib.sha256(old).digest()) == "MFOTA_ERR_DELTA_SOURCE"
    assert slot_untouched(dev)
    # The source of another size too (the hash covers source_size bytes).
    dev = Device(old + b"\0")
    assert code_of(dev, patch, sha256=hashlib.sha256(old).digest()) == "MFOTA_ERR_DELTA_SOURCE"


@pytest.mark.parametrize("compression", ["lzma", "bz2", "crle", "zstd", "lz4"])
def test_other_compressions_are_refused(compression):
    old, new = b"abc" * 100, b"abd" * 100
    patch = detools_patch(old, new, compression)
    dev = Device(old)
    assert code_of(dev, patch) == "MFOTA_ERR_DELTA_COMPRESSION"
    assert slot_untouched(dev)


def test_heatshrink_window_beyond_the_build_is_refused():
    old, new = b"abc" * 100, b"abd" * 100
    patch = detools_patch(old, new, "heatshrink", heatshrink_window_sz2=delta.WINDOW_SZ2_MAX + 1,
                          heatshrink_lookahead_sz2=4)
    assert code_of(Device(old), patch) == "MFOTA_ERR_DELTA_WINDOW"
    # lookahead not below the window (heatshrink forbids it): hand-made.
    good = detools_patch(old, new, "heatshrink")
    at = 1 + 2  # type byte, 2-byte size 300, then the heatshrink parameters
    assert good[at] == (8 - 4) << 4 | (7 - 3)
    bad = good[:at] + bytes([(6 - 4) << 4 | (6 - 3)]) + good[at + 1:]
    assert code_of(Device(old), bad) == "MFOTA_ERR_DELTA_WINDOW"


# Hand-made `none` patches: type 0x00, the size, then df-size, chunks, adjustments.
@pytest.mark.parametrize("patch,code", [
    (b"", "MFOTA_ERR_DELTA_TRUNCATED"),
    (b"\x10\x04", "MFOTA_ERR_DELTA_HEADER"),             # in-place patch type
    (b"\x20\x04", "MFOTA_ERR_DELTA_HEADER"),             # hdiffpatch type
    (b"\x80\x04", "MFOTA_ERR_DELTA_HEADER"),             # top bit set
    (b"\x00\x44", "MFOTA_ERR_DELTA_HEADER"),             # negative image size
    (b"\x00\xff\xff\xff\xff\xff\x01", "MFOTA_ERR_DELTA_HEADER"),  # size beyond 31 bits
    (b"\x00\x04\x03", "MFOTA_ERR_DELTA_DATA_FORMAT"),    # data-format patch present
    (b"\x00\x04\x00\x05", "MFOTA_ERR_DELTA_OVERRUN"),    # diff of 5 into a 4-byte image
    (b"\x00\x04\x00\x02\x00\x00\x03", "MFOTA_ERR_DELTA_OVERRUN"),  # extra past the image
    (b"\x00\x04\x00\x41", "MFOTA_ERR_DELTA_CORRUPT"),    # negative diff size
    (b"\x00\x04\x00\x00\x04abcd\x00!", "MFOTA_ERR_DELTA_CORRUPT"),  # a byte after the end
    (b"\x00\x04\x00\x00\x02ab\x41\x02\x00\x00\x00\x00", "MFOTA_ERR_DELTA_CORRUPT"),  # read < 0
    (b"\x00\x04\x00\x00\x02ab\x10\x02\x00\x00\x00", "MFOTA_ERR_DELTA_CORRUPT"),  # read past end
    (b"\x00\x04\x00\x00\x02ab", "MFOTA_ERR_DELTA_TRUNCATED"),
    (b"\x00\x00\x00", "MFOTA_ERR_DELTA_CORRUPT"),        # bytes after an empty image
])
def test_malformed_patches_get_their_own_error(patch, code):
    dev = Device(b"0123456789abcdef")
    assert code_of(dev, patch) == code


def test_handmade_patch_semantics():
    # diff 2 (+1 each) against the source at 0, extra "XY", adjust +4, then
    # diff 2 (+0) at 6, extra 0, adjust 0.
    patch = b"\x00\x06\x00\x02\x01\x01\x02XY\x04\x02\x00\x00\x00\x00"
    dev = Device(b"0123456789")
    a = dev.applier()
    assert a.feed(patch)
    a.finish()
    assert dev.image(6) == b"12XY67"


def test_image_larger_than_the_slot_is_an_overrun():
    # 0x81 0x10: 1 + (0x10 << 6) = 1025 bytes into a 1024-byte slot.
    dev = Device(b"abc", slot=SECTOR)
    assert code_of(dev, b"\x00\x81\x10") == "MFOTA_ERR_DELTA_OVERRUN"
    assert slot_untouched(dev)
    # Exactly the slot is fine (the patch is merely cut short here).
    dev = Device(b"abc", slot=SECTOR)
    assert code_of(dev, b"\x00\x80\x10") == "MFOTA_ERR_DELTA_TRUNCATED"


@pytest.mark.parametrize("compression", ["heatshrink", "none"])
def test_every_truncation_is_refused(compression):
    rng = random.Random(5)
    old = firmware_like(rng, 3000)
    new = old[:500] + b"change" + old[520:]
    patch = detools_patch(old, new, compression)
    for n in range(len(patch)):
        dev = Device(old)
        a = dev.applier()
        assert not a.feed(patch[:n])
        with pytest.raises(DeltaError) as info:
            a.finish()
        assert info.value.code == "MFOTA_ERR_DELTA_TRUNCATED"
    # ... and anything appended after a complete patch.
    dev = Device(old)
    assert code_of(dev, patch + b"\x00") == "MFOTA_ERR_DELTA_CORRUPT"


@settings(max_examples=200)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["heatshrink", "none"]), st.data())
def test_corrupted_patches_never_misbehave(seed, compression, data):
    """A damaged patch ends in a delta error or in some image of the header's
    size (the image checks catch that one); never outside the slot."""
    rng = random.Random(seed)
    old = firmware_like(rng, 2000)
    new = old[:300] + rng.randbytes(50) + old[400:]
    patch = bytearray(detools_patch(old, new, compression))
    for _ in range(data.draw(st.integers(1, 4))):
        patch[data.draw(st.integers(0, len(patch) - 1))] = data.draw(st.integers(0, 255))
    dev = Device(old, slot=4 * SECTOR)
    try:
        a = dev.applier()
        a.feed(bytes(patch))
        a.finish()
    except DeltaError as exc:
        assert exc.code.startswith("MFOTA_ERR_DELTA_") or exc.code.startswith("MFOTA_ERR_FLASH")
    assert dev.source_intact()


# ---- power cuts ---------------------------------------------------------------


@pytest.mark.parametrize("compression", ["heatshrink", "none"])
def test_power_cut_at_every_flash_operation_then_restart(compression):
    """Cut the power at each program and erase of the update slot; after the
    cut the device starts the patch again from its first byte (the chosen
    resume rule) and ends with the exact image; the source is never written."""
    rng = random.Random(9)
    old = firmware_like(rng, 6 * SECTOR + 100)
    b = bytearray(old)
    b[2000:2000] = b"v2 fix" * 3
    del b[5000:5040]
    new = bytes(b)
    patch = detools_patch(old, new, compression)

    clean = Device(old)
    apply_in_splits(clean, patch, [len(patch) // 3])
    ops = clean.flash.ops
    assert ops > 2 * 6  # programs and erases of several sectors
    for cut in range(ops):
        dev = Device(old)
        dev.flash.power_on(cut_after=cut)
        with pytest.raises(PowerCut):
            apply_in_splits(dev, patch, [len(patch) // 3])
        assert dev.source_intact()
        dev.flash.power_on()
        apply_in_splits(dev, patch, [len(patch) // 2, 17])
        assert dev.image(len(new)) == new, f"cut after {cut} operations"
        assert dev.source_intact()


def test_a_failed_applier_stays_failed_and_empty_feeds_are_fine():
    old = b"0123456789abcdef"
    dev = Device(old)
    a = dev.applier()
    assert a.feed(b"") is False
    with pytest.raises(DeltaError) as first:
        a.feed(b"\x00\x04\x00\x05")  # diff past the image
    assert first.value.code == "MFOTA_ERR_DELTA_OVERRUN"
    # Good bytes after the error do not revive it, nor does finish().
    for call in (lambda: a.feed(b"\x00"), a.finish):
        with pytest.raises(DeltaError) as again:
            call()
        assert again.value.code == "MFOTA_ERR_DELTA_OVERRUN"


def test_rebuilt_mcuboot_image_passes_the_full_image_checks():
    """The image a patch rebuilds is checked like a downloaded one: the
    writer's own SHA-256 and read-back (image_verify), then MCUboot's hash."""
    from test_flash_powercut import mcuboot_image

    from m2mfota.flash import ImageError, mcuboot_check

    rng = random.Random(12)
    body = firmware_like(rng, 30000)
    v1 = mcuboot_image(body, version=(1, 0, 0, 0))
    v2 = mcuboot_image(body[:7000] + b"fixed" + body[7005:], version=(1, 0, 1, 0))
    patch = create_patch(v1, v2)
    assert len(patch) < len(v2) // 10
    dev = Device(v1)
    writer = FlashWriter(dev.slot)
    a = DeltaApplier(dev.flash, writer, source_size=len(v1),
                     source_sha256=hashlib.sha256(v1).digest())
    assert a.feed(patch)
    a.finish()
    report = writer.verify(size=len(v2), sha256=hashlib.sha256(v2).digest())
    assert report.result == 0 and report.sha256 == hashlib.sha256(v2).digest()
    assert mcuboot_check(dev.slot, len(v2)).version.startswith("1.0.1")
    # The checks are live: an image that is not the expected one fails them.
    with pytest.raises(ImageError) as info:
        writer.verify(size=len(v2), sha256=hashlib.sha256(v1).digest())
    assert info.value.code == "MFOTA_ERR_IMAGE_SHA256"


# ---- error paths: every error is sticky ------------------------------------------

PORT_ERR = -1000  # a port's own code, no m2mfota error: it must come back unchanged


class FailingReads:
    """A flash object whose n-th read fails with PORT_ERR; counts reads after it."""

    def __init__(self, inner: NorFlash, nth: int) -> None:
        self.inner, self.nth = inner, nth
        self.reads = self.after = 0
        for name in ("size", "sector_size", "program_size", "erased_value"):
            setattr(self, name, getattr(inner, name))

    def read(self, offset: int, size: int) -> bytes:
        if self.reads >= self.nth > 0:
            self.after += 1
        self.reads += 1
        if self.reads == self.nth:
            raise HalFailure(PORT_ERR)
        return self.inner.read(offset, size)

    def program(self, offset: int, data: bytes) -> None:
        raise AssertionError("the applier wrote its source")

    def erase(self, offset: int) -> None:
        raise AssertionError("the applier erased its source")


def _c_applier(source: object, dev: Device, sha: bytes | None):
    """The C applier driven directly, so that a failed begin() can be fed."""
    hal = FlashHal(source, name="source")
    writer = FlashWriter(dev.slot)
    d = ffi.new("struct mfota_delta *")
    digest = ffi.from_buffer(sha) if sha is not None else ffi.NULL
    rc = lib.mfota_delta_begin(d, hal.c, len(dev.old), digest, writer.c)
    return d, rc, (hal, writer, digest)


def _feed(d, data: bytes) -> int:
    return lib.mfota_delta_feed(d, ffi.from_buffer(data), len(data))


@pytest.mark.parametrize("compression", ["heatshrink", "none"])
def test_a_source_read_failing_at_any_read_is_sticky_and_the_next_begin_starts_clean(
        compression):
    """Fail the n-th source read, for every n of a clean application (the
    source hash in begin(), then the diff reads of the patch): the port's own
    code comes back from that call and from every later feed() and finish(),
    nothing reads the source after it, a failure in the hash leaves the slot
    untouched, and begin() again on the same struct rebuilds the image."""
    rng = random.Random(21)
    old = firmware_like(rng, 3 * SECTOR + 100)
    new = old[:900] + b"patched" + old[907:] + rng.randbytes(50)
    patch = detools_patch(old, new, compression)
    sha = hashlib.sha256(old).digest()
    hash_reads = -(-len(old) // lib.MFOTA_DELTA_BUF)
    probe = Device(old)
    counting = FailingReads(probe.flash, 0)
    d, rc, keep = _c_applier(counting, probe, sha)
    assert rc == 0 and _feed(d, patch) == ERR["MFOTA_DONE"]
    total = counting.reads
    assert total > hash_reads + 10  # the patch reads the source too
    for nth in range(1, total + 1):
        dev = Device(old)
        src = FailingReads(dev.flash, nth)
        d, rc, keep = _c_applier(src, dev, sha)
        where = f"read {nth} of {total}"
        if nth <= hash_reads:
            assert rc == PORT_ERR, where
            assert slot_untouched(dev), where
        else:
            assert rc == 0, where
            # One byte at a time: the failing call is the one that read.
            rcs = [_feed(d, patch[i:i + 1]) for i in range(len(patch))]
            first = next(i for i, r in enumerate(rcs) if r < 0)
            assert rcs[first] == PORT_ERR and set(rcs[first:]) == {PORT_ERR}, where
        assert _feed(d, b"") == PORT_ERR and _feed(d, patch[:5]) == PORT_ERR, where
        assert lib.mfota_delta_finish(d) == PORT_ERR, where
        assert src.after == 0, f"{where}: the source was read after it failed"
        # The next attempt, on the same struct, knows nothing of the failed one.
        src.nth = 0
        assert lib.mfota_delta_begin(d, keep[0].c, len(old), keep[2], keep[1].c) == 0, where
        assert _feed(d, patch) == ERR["MFOTA_DONE"] and lib.mfota_delta_finish(d) == 0, where
        assert dev.image(len(new)) == new and dev.source_intact(), where


def test_a_refused_begin_leaves_nothing_of_the_previous_patch():
    rng = random.Random(22)
    old = firmware_like(rng, 2000)
    patch = detools_patch(old, old[:1000] + b"x" + old[1001:], "heatshrink")
    dev = Device(old)
    d, rc, keep = _c_applier(dev.flash, dev, None)
    hal, writer, _ = keep
    assert rc == 0 and _feed(d, patch[:len(patch) // 2]) == ERR["MFOTA_NEED_MORE"]
    inval = ERR["MFOTA_ERR_INVAL"]
    refusals = [
        lambda: lib.mfota_delta_begin(d, ffi.NULL, len(old), ffi.NULL, writer.c),
        lambda: lib.mfota_delta_begin(d, hal.c, hal.c.slot_size + 1, ffi.NULL, writer.c),
    ]
    for begin in refusals:
        assert begin() == inval
        # The half-applied patch does not go on: the refusal is what feed() says.
        assert _feed(d, patch[len(patch) // 2:]) == inval
        assert lib.mfota_delta_finish(d) == inval
    bad = ffi.new("struct mfota_flash *", hal.c[0])
    bad.sector_size = 3  # the geometry check's own error is kept, not a later one
    geometry = ERR["MFOTA_ERR_FLASH_GEOMETRY"]
    assert lib.mfota_delta_begin(d, bad, 0, ffi.NULL, writer.c) == geometry
    assert _feed(d, patch) == geometry and lib.mfota_delta_finish(d) == geometry


def test_misuse_of_feed_is_an_error_not_a_crash():
    # A zeroed struct that begin() never saw (static storage on a device).
    d = ffi.new("struct mfota_delta *")
    state = ERR["MFOTA_ERR_STATE"]
    assert _feed(d, b"\x04\x0a\x44") == state and lib.mfota_delta_finish(d) == state
    # NULL data with a length: refused, and the applier stays refused.
    old = b"0123456789abcdef" * 8
    dev = Device(old)
    d, rc, keep = _c_applier(dev.flash, dev, None)
    assert rc == 0
    inval = ERR["MFOTA_ERR_INVAL"]
    assert lib.mfota_delta_feed(d, ffi.NULL, 4) == inval
    assert _feed(d, detools_patch(old, old, "none")) == inval
    assert lib.mfota_delta_feed(ffi.NULL, ffi.NULL, 0) == inval
