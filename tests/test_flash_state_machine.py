"""A hypothesis state machine over the writer and the journal: random writes,
flushes, failed parts and power cuts (between operations and inside them).

The model is simple on purpose: the image is known, so after every step the
flash must hold the image wherever the writer or the journal says bytes are
done, the journal must describe a prefix of it, and a reboot must resume from
the journal without losing more than a part or a sector."""

from __future__ import annotations

import zlib

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from m2mfota.flash import FlashError, FlashRegion, FlashWriter, Journal, NorFlash, PowerCut

URL = "http://10.1.2.3/f/v1/state-machine"


class WriterMachine(RuleBasedStateMachine):
    @initialize(
        geometry=st.sampled_from([(256, 8), (512, 4), (256, 1), (512, 16)]),
        nsectors=st.integers(2, 6),
        data=st.data(),
    )
    def setup(self, geometry, nsectors, data):
        self.sector, self.prog = geometry
        size = data.draw(st.integers(1, nsectors * self.sector), label="size")
        self.image = data.draw(st.binary(min_size=size, max_size=size), label="image")
        self.slot_size = nsectors * self.sector
        self.nor = NorFlash(self.slot_size + 2 * self.sector, self.sector, self.prog)
        self.part = None  # [start, length, written, corrupt]
        self.journaled = {0}  # where a reboot may resume: the journal's offset
        self.boot()

    # ---- helpers ---------------------------------------------------------------

    def boot(self):
        self.nor.power_on()
        self.journal = Journal(FlashRegion(self.nor, self.slot_size, 2 * self.sector))
        rec = self.journal.begin(URL, len(self.image))
        self.writer = FlashWriter(FlashRegion(self.nor, 0, self.slot_size), journal=self.journal)
        start = self.writer.begin(len(self.image), rec)
        assert start == (rec.offset if rec.resumed else 0)
        assert bytes(self.nor.data[:start]) == self.image[:start]
        self.part = None

    def power_cut(self):
        self.boot()
        # exactly where the last journal write left it (a torn write: the one before)
        assert self.writer.next_offset in self.journaled, (self.writer.next_offset, self.journaled)
        self.journaled = {self.writer.next_offset}

    def expected_journal(self):
        done = self.writer.committed_offset
        return done if done == len(self.image) else done - done % self.sector

    # ---- rules -----------------------------------------------------------------

    @precondition(lambda self: self.part is None and self.writer.next_offset < len(self.image))
    @rule(length=st.integers(1, 1200), corrupt=st.booleans())
    def start_part(self, length, corrupt):
        start = self.writer.next_offset
        length = min(length, len(self.image) - start)
        self.part = [start, length, 0, corrupt]

    @precondition(lambda self: self.part is not None and self.part[2] < self.part[1])
    @rule(k=st.integers(1, 700))
    def write(self, k):
        start, length, written, corrupt = self.part
        k = min(k, length - written)
        off = start + written
        chunk = bytearray(self.image[off : off + k])
        if corrupt and written <= length // 2 < written + k:
            chunk[length // 2 - written] ^= 0x01
        self.writer.write(off, bytes(chunk))
        self.part[2] += k
        assert self.writer.c.buf_len < self.prog

    @precondition(lambda self: self.part is not None and self.part[2] == self.part[1])
    @rule()
    def commit(self):
        start, length, _, corrupt = self.part
        crc = zlib.crc32(self.image[start : start + length])
        if not corrupt:
            # a cut inside the commit's journal write leaves the older record
            self.journaled = {max(self.journaled)}
            self.writer.part_commit(start, length, crc)
            self.part = None
            self.journaled = {self.expected_journal()}
            return
        try:
            self.writer.part_commit(start, length, crc)
            raise AssertionError("a corrupt part was committed")
        except FlashError as exc:
            assert exc.code == "MFOTA_ERR_FLASH_PART_CRC"
        in_flash = self.writer.c.flushed > start - start % self.prog
        again = self.writer.part_abort(start)
        assert again == (start - start % self.sector if in_flash else start)
        self.part = None

    @precondition(lambda self: self.part is not None and self.part[2] > 0)
    @rule()
    def give_up_part(self):
        """The connection dropped mid-part: the engine aborts it."""
        start = self.part[0]
        in_flash = self.writer.c.flushed > start - start % self.prog
        again = self.writer.part_abort(start)
        assert again == (start - start % self.sector if in_flash else start)
        self.part = None

    @rule()
    def flush(self):
        at_end = self.writer.next_offset == len(self.image)
        try:
            self.writer.flush()
            assert self.writer.c.buf_len == 0
        except FlashError as exc:
            assert exc.code == "MFOTA_ERR_STATE" and not at_end and self.writer.c.buf_len > 0

    @rule()
    def cut_between_operations(self):
        self.power_cut()

    @precondition(lambda self: self.part is not None and self.part[2] < self.part[1])
    @rule(after=st.integers(0, 4))
    def cut_inside_a_write(self, after):
        self.nor.power_on(cut_after=after)
        old = max(self.journaled)
        try:
            self.write(self.part[1] - self.part[2])
            if not self.part[3]:
                self.commit()
            self.nor.power_on()
        except PowerCut:
            # the commit may or may not have got its journal record out
            start, length = self.part[0], self.part[1]
            end = start + length
            self.journaled = {old, end if end == len(self.image) else end - end % self.sector}
            self.power_cut()

    @precondition(lambda self: self.writer.committed_offset == len(self.image))
    @rule()
    def verify(self):
        report = self.writer.verify(size=len(self.image), crc32=zlib.crc32(self.image))
        assert report.crc32 == zlib.crc32(self.image)

    # ---- invariants ------------------------------------------------------------

    @invariant()
    def flash_holds_the_image_where_it_is_done(self):
        if not hasattr(self, "writer"):
            return
        done = self.writer.committed_offset - self.writer.committed_offset % self.prog
        done = min(done, self.writer.c.flushed)
        assert bytes(self.nor.data[:done]) == self.image[:done]

    @invariant()
    def journal_describes_a_prefix(self):
        if not hasattr(self, "journal"):
            return
        rec = Journal(FlashRegion(self.nor, self.slot_size, 2 * self.sector)).load()
        if rec is None:
            return
        assert rec.offset % self.sector == 0 or rec.offset == len(self.image)
        assert rec.crc32 == zlib.crc32(self.image[: rec.offset])
        assert bytes(self.nor.data[: rec.offset]) == self.image[: rec.offset]
        assert rec.complete == (rec.offset == len(self.image))


WriterMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestWriterMachine = WriterMachine.TestCase
