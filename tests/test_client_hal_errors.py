"""A failing HAL stops the cycle: every negative return of a flash, journal
(flash or key-value) or bootloader callback ends it as MFOTA_ERR_HAL, never as
a download failure to retry, keeps the port's own value (here -5, a port's
-EIO, which is also MFOTA_ERR_UNSUPPORTED) in ``hal_error``, and nothing is
asked of any HAL after it.

Each call site is reached by failing the n-th call of one callback, for every
n a clean update makes (the first erase, the n-th program, the read-backs of
the verification, the MCUboot trailer writes of mark_pending...)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
from client_harness import Device, upload
from emulator_harness import ServerThread

from m2mfota.client import Client, ClientError
from m2mfota.demo import mcuboot_image
from m2mfota.flash import DictKV, HalFailure

PORT_EIO = -5
IMAGE = mcuboot_image(os.urandom(9000), (2, 0, 0))  # three 4 KiB parts


class Calls:
    """Counts the calls of every wrapped HAL; fails the n-th call of one of them."""

    def __init__(self, target: str | None = None, nth: int = 0) -> None:
        self.count: Counter[str] = Counter()
        self.target, self.nth = target, nth
        self.after_fault = 0
        self.fired = False

    def hit(self, name: str) -> None:
        if self.fired:
            self.after_fault += 1
        self.count[name] += 1
        if name == self.target and self.count[name] == self.nth:
            self.fired = True
            raise HalFailure(PORT_EIO)


class FaultyFlash:
    def __init__(self, inner: Any, calls: Calls, prefix: str) -> None:
        self.inner, self.calls, self.prefix = inner, calls, prefix
        for name in ("size", "sector_size", "program_size", "erased_value"):
            setattr(self, name, getattr(inner, name))

    def read(self, offset: int, size: int) -> bytes:
        self.calls.hit(self.prefix + ".read")
        return self.inner.read(offset, size)

    def program(self, offset: int, data: bytes) -> None:
        self.calls.hit(self.prefix + ".program")
        self.inner.program(offset, data)

    def erase(self, offset: int) -> None:
        self.calls.hit(self.prefix + ".erase")
        self.inner.erase(offset)


class FaultyKV:
    def __init__(self, calls: Calls) -> None:
        self.inner, self.calls = DictKV(), calls

    def get(self) -> bytes | None:
        self.calls.hit("kv.get")
        return self.inner.get()

    def set(self, value: bytes) -> None:
        self.calls.hit("kv.set")
        self.inner.set(value)


class FaultyBootloader:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.pending: int | None = None

    def check_image(self, image_size: int) -> None:
        # accepts the raw test image (a failing check_image is
        # test_image_acceptance_e2e.py::test_port_failure_in_check_image_ends_the_cycle)
        return None

    def mark_pending(self, image_size: int, permanent: bool) -> None:
        self.calls.hit("boot.mark_pending")
        self.pending = image_size

    def confirm(self) -> None:
        self.calls.hit("boot.confirm")

    def running_version(self) -> str:
        return "1.0.0"


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as server:
        yield server


@pytest.fixture(scope="module")
def fw(srv):
    return upload(srv, IMAGE, "2.0.0")


def _client(dev: Device, calls: Calls, journal: str, bootloader: str):
    slot = FaultyFlash(dev.slot, calls, "slot")
    jrn: Any = FaultyKV(calls) if journal == "kv" else FaultyFlash(dev.journal, calls, "journal")
    bl: Any = FaultyBootloader(calls) if bootloader == "python" else "mcuboot"
    client = Client(imei=dev.imei, secret=dev.secret, version=dev.version, server=dev.srv.base,
                    flash=slot, journal=jrn, bootloader=bl, io_timeout=5.0, retry_base=0.05,
                    retry_max=0.2)
    return client, bl


SETUPS = [("flash", "mcuboot"), ("kv", "python")]


def _clean_counts(srv, fw, journal, bootloader) -> Counter[str]:
    dev = Device(srv, image_size=len(IMAGE))
    dev.desire(fw["id"])
    calls = Calls()
    client, _ = _client(dev, calls, journal, bootloader)
    out = client.run(timeout=30)
    assert out.version == "2.0.0" and out.result == 0
    return calls.count


def _cases():
    # (journal, bootloader, callback): the callbacks each setup reaches.
    out = []
    for journal, bootloader in SETUPS:
        names = ["slot.read", "slot.program", "slot.erase"]
        names += ["journal.read", "journal.program", "journal.erase"] if journal == "flash" \
            else ["kv.get", "kv.set"]
        if bootloader == "python":
            names.append("boot.mark_pending")
        out += [(journal, bootloader, n) for n in names]
    return out


@pytest.mark.parametrize("journal,bootloader,target", _cases())
def test_every_call_of_a_callback_failing_ends_the_cycle_as_hal(srv, fw, journal, bootloader,
                                                                 target):
    total = _clean_counts(srv, fw, journal, bootloader)[target]
    assert total > 0, f"{target} is never called: the case tests nothing"
    # Every call when there are few; else the first ones, some in the middle, the last ones.
    nths = sorted(set(range(1, total + 1)) if total <= 12 else
                  {1, 2, 3, total // 3, total // 2, 2 * total // 3, total - 1, total})
    missed = []
    for nth in nths:
        dev = Device(srv, image_size=len(IMAGE))
        dev.desire(fw["id"])
        calls = Calls(target, nth)
        client, bl = _client(dev, calls, journal, bootloader)
        where = f"{target} call {nth} of {total}"
        try:
            out = client.run(timeout=30)
        except ClientError as exc:
            err = exc
        else:
            # How data arrives moves the count of read-backs a little from
            # run to run: a call past the end of this run never failed.
            assert not calls.fired, f"{where}: the failure was ignored: {out}"
            missed.append(nth)
            continue
        assert err.code == "MFOTA_ERR_HAL", where
        assert client.hal_error == PORT_EIO, where
        assert str(PORT_EIO) in str(err), where
        assert calls.after_fault == 0, f"{where}: HAL used after it failed"
        assert client.stats["retries"] == 0, where
        assert not client.c.has_pending, where
        assert bootloader != "python" or bl.pending is None, where
    # Under load the data arrives in other splits and the count of
    # read-backs can drop by more than a couple: only late calls may be
    # missed, and never most of them.
    assert all(nth > 3 for nth in missed), f"{target}: early calls {missed} never made"
    assert len(missed) <= len(nths) // 2, f"{target}: calls {missed} of {nths} never made"


def test_failing_confirm_is_a_hal_error(srv):
    dev = Device(srv, image_size=len(IMAGE))
    calls = Calls("boot.confirm", 1)
    client, _ = _client(dev, calls, "kv", "python")
    with pytest.raises(ClientError) as info:
        client.confirm_boot(timeout=10)
    assert info.value.code == "MFOTA_ERR_HAL" and client.hal_error == PORT_EIO


def test_halfailure_needs_a_negative_code():
    with pytest.raises(ValueError):
        HalFailure(5)
    with pytest.raises(ValueError):
        HalFailure(True)


def test_abort_after_a_hal_failure_does_not_let_a_new_cycle_run(srv, fw):
    # A HAL failure means the port is broken: the client stays "failed"
    # through an abort, and a new start is refused until it is initialised
    # again -- no HAL is asked anything meanwhile.
    from m2mfota._native import lib

    dev = Device(srv, image_size=len(IMAGE))
    dev.desire(fw["id"])
    calls = Calls("slot.erase", 1)
    client, _ = _client(dev, calls, "kv", "python")
    with pytest.raises(ClientError) as info:
        client.run(timeout=30)
    assert info.value.code == "MFOTA_ERR_HAL" and client.phase == "failed"
    lib.mfota_client_abort(client.c)
    assert client.phase == "failed"
    with pytest.raises(ClientError) as again:
        client.run(timeout=30)
    assert again.value.code == "MFOTA_ERR_STATE" and client.phase == "failed"
    assert calls.after_fault == 0
