"""The C client engine end to end over loopback against the emulator: real
sockets (the C POSIX transport), the emulator's ingestion endpoint and file
server, a NOR-flash model as the update slot and journal."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys

import pytest
from client_harness import Device, last_downlink, uplinks, upload
from emulator_harness import ServerThread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m2mfota.client import HttpStatus
from m2mfota.demo import mcuboot_image
from m2mfota.flash import Journal, PowerCut

SIZE = 40_000  # 10 parts of 4 KiB


@pytest.fixture(scope="module")
def srv():
    with ServerThread() as server:
        yield server


@pytest.fixture(scope="module")
def fw(srv):
    # An MCUboot image of exactly SIZE bytes (32 header + payload + 40 TLVs):
    # the default bootloader refuses anything else.
    data = mcuboot_image(os.urandom(SIZE - 72), (2, 0, 0))
    assert len(data) == SIZE
    return data, upload(srv, data, "2.0.0")


def _states(srv, dev):
    return [u.get("fota.state") for u in uplinks(srv, dev.imei)]


def test_update_end_to_end(srv, fw):
    data, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    out = dev.client().run(timeout=30)
    assert (out.result, out.state, out.version) == (0, "updating", "2.0.0")
    assert dev.image(SIZE) == data
    assert out.stats["requests"] == 10 and out.stats["retries"] == 0
    assert out.stats["downlinks"] == 1
    # Uplinks: the cycle's start, "downloading", then the final "updating";
    # progress at most every 10 % / 30 s, never once per part.
    ups = uplinks(srv, dev.imei)
    assert [u.get("fota.state") for u in ups] == ["idle", "downloading", "updating"]
    assert ups[-1]["fota.progress"] == 100 and ups[-1]["fota.result"] == 0
    assert all(u["firmware"] == "1.0.0" for u in ups)
    assert dev.info()["update"]["status"] == "downloading"
    # The reboot: the new image reports itself and the server closes the update.
    dev.version = out.version
    out2 = dev.client().confirm_boot(timeout=10)
    assert out2.result == 1 and out2.version is None
    info = dev.info()
    assert info["update"]["status"] == "done"
    assert info["reported"]["firmware"] == "2.0.0" and info["reported"]["result"] == 1


def test_progress_uplinks_follow_the_policy(srv, fw):
    data, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    out = dev.client(progress_step=25, progress_interval=0).run(timeout=30)
    assert out.version == "2.0.0"
    progress = [u["fota.progress"] for u in uplinks(srv, dev.imei) if "fota.progress" in u]
    assert progress[0] == 0 and progress[-1] == 100
    steps = [b - a for a, b in zip(progress[:-2], progress[1:-1])]
    assert steps and all(s >= 25 for s in steps), progress
    assert len(progress) < 10  # fewer than one per part


def test_mcuboot_image_is_checked_marked_and_confirmed(srv):
    image = mcuboot_image(os.urandom(30_000), (3, 1, 4))
    meta = upload(srv, image)
    assert meta["version"] == "3.1.4"
    dev = Device(srv, image_size=len(image))
    dev.desire(meta["id"])
    out = dev.client().run(timeout=30)
    assert out.version == "3.1.4" and dev.image(len(image)) == image
    end = dev.slot_size
    assert dev.trailer_magic_set()
    assert dev.nor.data[end - 24] == 0xFF  # image_ok: not yet
    dev.version = out.version
    assert dev.client().confirm_boot(timeout=10).result == 1
    assert dev.nor.data[end - 24] == 0x01
    assert dev.info()["update"]["status"] == "done"


def test_corrupt_mcuboot_image_is_not_marked(srv):
    image = bytearray(mcuboot_image(os.urandom(20_000), (4, 0, 0)))
    image[1000] ^= 0xFF  # the hash TLV no longer matches; crc32/sha256 of the file do
    meta = upload(srv, bytes(image))
    dev = Device(srv, image_size=len(image))
    dev.desire(meta["id"])
    out = dev.client().run(timeout=30)
    assert (out.result, out.reason, out.version) == (5, "image_hash", None)
    assert not dev.trailer_magic_set()
    assert uplinks(srv, dev.imei)[-1]["fota.result"] == 5


# ---- every fault of the file server ------------------------------------------------

RECOVERABLE = {
    "ignore_range": ({"ignore_range": True}, lambda s: s["requests"] <= 2),
    "drop": ({"drop_after_bytes": 1000, "drop_times": 3}, lambda s: s["connections"] >= 4),
    "corrupt": ({"corrupt_byte_at": 9000, "corrupt_times": 2}, lambda s: s["bytes"] > SIZE),
    "omit_digest": ({"omit_digest": True}, lambda s: s["unverified_parts"] == 10),
    "wrong_digest": ({"wrong_digest": True, "wrong_digest_times": 2},
                     lambda s: s["bytes"] > SIZE),
    "stall": ({"stall_seconds": 1.0, "stall_times": 1}, lambda s: s["retries"] >= 1),
    "503": ({"status_503_times": 2, "retry_after": 1}, lambda s: s["requests"] >= 12),
    "use_206": ({"use_206": True}, lambda s: s["requests"] == 10),
    "digest_variant": ({"digest_variant": True}, lambda s: s["unverified_parts"] == 0),
    "chunked": ({"chunked": True}, lambda s: s["requests"] == 10),
    "overlong": ({"overlong_bytes": 100, "overlong_times": 2}, lambda s: s["connections"] >= 2),
    # one byte per 50 ms: busy, never idle, and far past the part's deadline
    "trickle": ({"trickle_seconds": 0.05, "trickle_times": 1}, lambda s: s["retries"] >= 1),
}


@pytest.mark.parametrize("name", sorted(RECOVERABLE))
def test_recovers_from_file_server_fault(srv, fw, name):
    data, meta = fw
    faults, evidence = RECOVERABLE[name]
    dev = Device(srv, image_size=SIZE)
    dev.faults(faults)
    dev.desire(meta["id"])
    out = dev.client(io_timeout=0.5).run(timeout=60)
    assert out.version == "2.0.0", out
    assert dev.image(SIZE) == data
    assert evidence(out.stats), out.stats


FATAL = {
    "expire_token": ({"expire_token": True}, 4, "token"),
    "forbidden": ({"forbidden": True}, 4, "token"),
    "not_found": ({"not_found": True}, 4, "not_found"),
    "replaced": ({"replace_after_requests": 3}, 5, "size_mismatch"),
    "replaced_same_size": ({"replace_after_requests": 3, "replace_same_size": True}, 5,
                           "crc_mismatch"),
}


FATAL_STATUS = {"expire_token": 401, "forbidden": 403, "not_found": 404, "replaced": 200,
                "replaced_same_size": 200}


@pytest.mark.parametrize("name", sorted(FATAL))
def test_fatal_file_server_fault_is_reported(srv, fw, name):
    data, meta = fw
    faults, result, reason = FATAL[name]
    dev = Device(srv, image_size=SIZE)
    dev.faults(faults)
    dev.desire(meta["id"])
    out = dev.client().run(timeout=60)
    assert (out.result, out.reason, out.version, out.state) == (result, reason, None, "idle")
    # the file server's own status, beside the reason (a replaced file: its last 200)
    assert out.http_status.download == FATAL_STATUS[name], out.http_status
    assert out.http_status.uplink in (200, 204)
    assert not dev.trailer_magic_set()
    last = uplinks(srv, dev.imei)[-1]
    assert (last["fota.state"], last["fota.result"], last["fota.error"]) == ("idle", result,
                                                                            reason)
    # The server counts the attempt as failed and sends a new command next time.
    assert dev.info()["update"]["status"] == "retry"
    dev.faults(None)
    out = dev.client().run(timeout=60)
    assert out.version == "2.0.0" and dev.image(SIZE) == data


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(st.sampled_from(sorted(RECOVERABLE)), min_size=2, max_size=3,
                      unique=True),
       part_size=st.sampled_from([4096, 8192]))
def test_recovers_from_combined_faults(srv, fw, names, part_size):
    data, meta = fw
    faults: dict = {}
    for name in names:
        faults.update(RECOVERABLE[name][0])
    dev = Device(srv, image_size=SIZE)
    dev.faults(faults)
    dev.desire(meta["id"])
    if "omit_digest" in names and "corrupt" in names:
        # Corrupted bytes without a Digest: only the whole-image check can
        # see them, and every new download is corrupted the same way.
        out = dev.client(io_timeout=0.5, part_size=part_size).run(timeout=60)
        assert (out.result, out.reason, out.version) == (5, "crc_mismatch", None)
        assert not dev.trailer_magic_set()
        return
    out = None
    for _ in range(3):  # a failed attempt is reported; the next downlink retries
        out = dev.client(io_timeout=0.5, part_size=part_size).run(timeout=60)
        if out.version is not None:
            break
        assert out.result in (4, 5) and out.reason is not None
    assert out is not None and out.version == "2.0.0", (faults, out)
    assert dev.image(SIZE) == data


def test_every_file_server_fault_is_covered():
    import dataclasses

    from m2mfota.emulator.fileserver import Faults

    # Fields that only parameterise another fault.
    modifiers = {"drop_times", "corrupt_times", "wrong_digest_times", "stall_times",
                 "retry_after", "replacement", "replace_same_size", "overlong_times",
                 "trickle_times",
                 "omit_validator"}  # only tells apart with a replacement
    used = {k for faults, *_ in [*RECOVERABLE.values(), *FATAL.values()] for k in faults}
    assert {f.name for f in dataclasses.fields(Faults)} - modifiers <= used


# ---- power cuts --------------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.integers(min_value=0, max_value=230))
def test_power_cut_then_a_new_client_resumes(srv, fw, cut):
    data, meta = fw
    dev = Device(srv, image_size=SIZE, cut_after=cut)
    dev.desire(meta["id"])
    try:
        out = dev.client().run(timeout=30)
        cut_happened = False
    except PowerCut:
        cut_happened = True
    if cut_happened:
        dev.nor.power_on()
        record = Journal(dev.journal).load()
        resumed_at = record.offset if record is not None else 0
        # The reboot: a new client on the same flash; the server sends the
        # same URL again and the journal says how far the download got.
        out = dev.client().run(timeout=30)
        assert out.stats["resumes"] == (1 if resumed_at > 0 else 0)
        assert out.stats["bytes"] == SIZE - resumed_at
    assert out.version == "2.0.0", out
    assert dev.image(SIZE) == data
    dev.version = out.version
    assert dev.client().confirm_boot(timeout=10).result == 1
    assert dev.info()["update"]["status"] == "done"


def test_power_cut_late_resumes_without_refetching(srv, fw):
    data, meta = fw
    dev = Device(srv, image_size=SIZE, cut_after=None)
    dev.desire(meta["id"])
    seen = []

    def cut_at_60_percent(ev):
        seen.append(ev)
        if ev.kind == "progress" and ev.done >= 0.6 * SIZE and dev.nor.cut_after is None:
            dev.nor.cut_after = dev.nor.ops  # the next flash operation loses power
    with pytest.raises(PowerCut):
        dev.client(on_event=cut_at_60_percent).run(timeout=30)
    dev.nor.power_on()
    out = dev.client().run(timeout=30)
    assert out.version == "2.0.0" and dev.image(SIZE) == data
    assert out.stats["resumes"] == 1
    assert out.stats["bytes"] <= 0.5 * SIZE  # only what the journal had not recorded


# ---- bad downlinks -------------------------------------------------------------------

BAD = {
    "ftp_url": ('"url","vs":"ftp://127.0.0.1/f"', '"token","vs":"abc"', 7, "bad_url"),
    "url_with_space": ('"url","vs":"http://127.0.0.1/a b"', '"token","vs":"abc"', 7,
                       "bad_url"),
    "token_with_space": ('"url","vs":"http://127.0.0.1:1/f"', '"token","vs":"a b"', 7,
                         "bad_token"),
    "no_token": ('"url","vs":"http://127.0.0.1:1/f"', '"other","vs":"x"', 7, "bad_token"),
    "bad_size": ('"url","vs":"http://127.0.0.1:1/f"', '"token","vs":"t"},{"n":"size","v":-1',
                 9, "bad_downlink"),
    # sizes are 32-bit: 4 GiB is refused as not fitting, never truncated to 0
    "size_4_gib": ('"url","vs":"http://127.0.0.1:1/f"',
                   '"token","vs":"t"},{"n":"size","v":4294967296', 2, "no_flash"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_downlink_is_answered_and_nothing_is_written(srv, name):
    url, token, result, reason = BAD[name]
    dev = Device(srv, image_size=SIZE)
    body = f'[{{"bn":"urn:dev:IMEI:{dev.imei}:","n":{url}}},{{"n":{token}}}]'.encode()
    out = dev.client().downlink(body, timeout=10)
    assert (out.result, out.reason, out.version) == (result, reason, None)
    assert dev.nor.programs == 0 and dev.nor.erases == 0
    last = uplinks(srv, dev.imei)[-1]
    assert (last["fota.result"], last["fota.error"]) == (result, reason)


def test_downlink_for_another_device_is_refused(srv):
    dev = Device(srv, image_size=SIZE)
    body = (b'[{"bn":"urn:dev:IMEI:000000000000001:","n":"url","vs":"http://127.0.0.1:1/f"},'
            b'{"n":"token","vs":"t"}]')
    out = dev.client().downlink(body, timeout=10)
    assert (out.result, out.reason) == (9, "wrong_device")
    assert dev.nor.programs == 0 and dev.nor.erases == 0


def test_downlink_without_fota_command_is_ignored(srv):
    dev = Device(srv, image_size=SIZE)
    body = f'[{{"bn":"urn:dev:IMEI:{dev.imei}:","n":"temp","v":3}}]'.encode()
    out = dev.client().downlink(body, timeout=10)
    assert (out.result, out.state, out.version) == (0, "idle", None)
    assert uplinks(srv, dev.imei) == []


# ---- tokens and downlinks during an update -------------------------------------------


def test_token_expiring_mid_download(srv, fw):
    data, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    fired = []

    def expire_at_a_third(ev):
        if ev.kind == "progress" and ev.done >= SIZE // 3 and not fired:
            fired.append(ev.done)
            dev.faults({"expire_token": True})
    out = dev.client(on_event=expire_at_a_third).run(timeout=30)
    assert fired
    assert (out.result, out.reason, out.version) == (4, "token", None)
    assert dev.info()["update"]["status"] == "retry"
    dev.faults(None)
    out = dev.client().run(timeout=30)  # a new downlink brings a new token
    assert out.version == "2.0.0" and dev.image(SIZE) == data


def test_second_downlink_for_another_url_replaces_the_update(srv, fw):
    _, meta_a = fw
    data_b = mcuboot_image(os.urandom(SIZE - 1234), (3, 0, 0))
    meta_b = upload(srv, data_b, "3.0.0")
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta_a["id"])
    switched = []

    def switch(ev):
        if ev.kind == "progress" and ev.done >= SIZE * 0.3 and not switched:
            switched.append(ev.done)
            dev.desire(meta_b["id"])  # the next uplink's response carries a new command
    c = dev.client(on_event=switch, progress_step=1, progress_interval=0)
    out = c.run(timeout=30)
    assert switched
    assert out.version == "3.0.0", out
    assert dev.image(len(data_b)) == data_b
    assert out.stats["downlinks"] == 2 and out.stats["restarts"] >= 1


def test_second_downlink_for_the_same_url_carries_on(srv, fw):
    data, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    fed = []

    def again(ev):
        if ev.kind == "progress" and ev.done >= SIZE * 0.3 and not fed:
            fed.append(ev.done)
            client.feed_downlink(last_downlink(srv, dev.imei))
    client = dev.client(on_event=again)
    out = client.run(timeout=30)
    assert fed and out.version == "2.0.0" and dev.image(SIZE) == data
    assert out.stats["downlinks"] == 2
    assert out.stats["restarts"] == 0 and out.stats["requests"] == 10


def test_wrong_secret_is_a_result_not_an_exception(srv, fw):
    dev = Device(srv, image_size=SIZE)
    dev.secret = "not-the-secret"
    out = dev.client().run(timeout=10)
    assert (out.result, out.reason, out.error) == (4, "uplink", "MFOTA_ERR_CLIENT_REFUSED")
    # the literal status behind the error name; no download was tried
    assert out.http_status == HttpStatus(401, None)
    assert dev.nor.programs == 0


def test_unreachable_server_retries_then_gives_up(srv):
    from m2mfota.client import Client

    dev = Device(srv, image_size=SIZE)
    c = Client(imei=dev.imei, secret=dev.secret, version="1.0.0", server="http://127.0.0.1:9",
               flash=dev.slot, journal=dev.journal, max_retries=2, retry_base=0.01,
               retry_max=0.02, io_timeout=1.0)
    out = c.run(timeout=10)
    assert (out.result, out.error) == (4, "MFOTA_ERR_CLIENT_UPLINK")
    assert out.stats["uplink_failures"] == 3  # the first try and two retries


# ---- the demo -------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--faults"], ["--bootloader", "none"]])
def test_demo_exits_0(extra):
    proc = subprocess.run([sys.executable, "-m", "m2mfota.cli", "demo", "--devices", "3",
                           "--size", "50000", *extra], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("1.0.0 → 2.0.0") == 3
    assert "every device runs 2.0.0" in proc.stdout
    kind = "raw image, unchecked" if "none" in extra else "signed MCUboot image, Ed25519"
    assert kind in " ".join(proc.stdout.split())  # the banner may wrap at 80 columns
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80  # the summary fits


def test_mcuboot_image_helper_matches_the_c_checker():
    from m2mfota.flash import mcuboot_info

    image = mcuboot_image(b"x" * 100, (1, 2, 3), build=7)
    info = mcuboot_info(image)
    assert info.version == "1.2.3+7"
    assert info.sha256 == hashlib.sha256(image[:132]).digest()
    assert struct.unpack_from("<I", image)[0] == 0x96F3B83D


def test_step_api_never_blocks(srv, fw):
    """step(io_wait_ms=0) returns at once: would-block on the sockets, wait
    with a wake-up time in the future for a Retry-After, done at the end."""
    import time

    from m2mfota._errors import ERR
    from m2mfota._native import lib

    data, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.faults({"status_503_times": 1, "retry_after": 1})
    dev.desire(meta["id"])
    client = dev.client()
    assert lib.mfota_client_start(client.c) == 0
    seen = set()
    slowest = 0.0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        rc = lib.mfota_client_step(client.c, 0)
        slowest = max(slowest, time.monotonic() - t0)
        seen.add(rc)
        if rc == ERR["MFOTA_DONE"]:
            break
        assert rc in (ERR["MFOTA_WOULD_BLOCK"], ERR["MFOTA_WAIT"]), rc
        if rc == ERR["MFOTA_WAIT"]:
            clock_now = lib.mfota_client_wake_at(client.c)
            assert clock_now > 0
        time.sleep(0.002)
    assert seen >= {ERR["MFOTA_WOULD_BLOCK"], ERR["MFOTA_WAIT"], ERR["MFOTA_DONE"]}
    assert slowest < 0.5  # no call sat out the 1 s Retry-After
    assert client.c.has_pending and dev.image(SIZE) == data


class RecordingBootloader:
    """A Python object standing in for a bootloader other than MCUboot."""

    def __init__(self, fail_on_mark: BaseException | None = None,
                 fail_on_check: BaseException | None = None) -> None:
        self.calls: list[tuple] = []
        self.fail_on_mark = fail_on_mark
        self.fail_on_check = fail_on_check

    def mark_pending(self, image_size: int, permanent: bool) -> None:
        self.calls.append(("mark_pending", image_size, permanent))
        if self.fail_on_mark is not None:
            raise self.fail_on_mark

    def confirm(self) -> None:
        self.calls.append(("confirm",))

    def check_image(self, image_size: int) -> str | None:
        self.calls.append(("check_image", image_size))
        if self.fail_on_check is not None:
            raise self.fail_on_check
        return None

    def running_version(self) -> str:
        return "1.0.0"


def test_python_object_as_bootloader(srv, fw):
    data, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    bl = RecordingBootloader()
    out = dev.client(bootloader=bl, permanent=True).run(timeout=30)
    assert out.version == "2.0.0"
    assert bl.calls == [("check_image", SIZE), ("mark_pending", SIZE, True)]
    assert not dev.trailer_magic_set()  # that bootloader writes no MCUboot trailer
    dev.version = out.version
    assert dev.client(bootloader=bl).confirm_boot(timeout=10).result == 1
    assert bl.calls[-1] == ("confirm",)


def test_bootloader_exception_propagates(srv, fw):
    _, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])

    class Broken(Exception):
        pass

    with pytest.raises(Broken):
        dev.client(bootloader=RecordingBootloader(Broken("flash controller hung"))).run(30)


def test_python_bootloader_refuses_with_an_image_error(srv, fw):
    from m2mfota import ImageError

    _, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    bl = RecordingBootloader(fail_on_check=ImageError("MFOTA_ERR_MCUBOOT_SIG"))
    out = dev.client(bootloader=bl).run(timeout=30)
    assert (out.result, out.reason, out.version) == (5, "image_signature", None)
    assert bl.calls == [("check_image", SIZE)]  # never marked
    assert uplinks(srv, dev.imei)[-1]["fota.error"] == "image_signature"


def test_python_bootloader_check_exception_propagates(srv, fw):
    _, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])

    class Broken(Exception):
        pass

    bl = RecordingBootloader(fail_on_check=Broken("crypto engine hung"))
    with pytest.raises(Broken):
        dev.client(bootloader=bl).run(30)
    assert bl.calls == [("check_image", SIZE)]


@pytest.mark.parametrize(("build", "expected"), [(0, "6.1.0"), (5, "6.1.0+5")])
def test_version_from_the_mcuboot_header_when_the_downlink_has_none(srv, build, expected):
    import json

    from m2mfota.emulator.keys import EMULATOR

    image = mcuboot_image(os.urandom(10_000), (6, 1, 0), build=build)
    dev = Device(srv, image_size=len(image))
    pub = srv.app[EMULATOR].fileserver.publish(image, device=dev.imei)
    body = json.dumps([{"bn": f"urn:dev:IMEI:{dev.imei}:"},
                       {"n": "url", "vs": srv.base + pub.path},
                       {"n": "token", "vs": pub.token}]).encode()
    out = dev.client().downlink(body, timeout=30)
    assert out.version == expected
    assert dev.image(len(image)) == image


def test_same_url_with_a_fresh_token_is_adopted(srv, fw):
    """The server re-sends the command with a new token mid-download: the
    engine keeps its progress and goes on, on a new connection, with the new
    token, so the old one can expire without costing the update."""
    import json

    from m2mfota.emulator.keys import EMULATOR

    data, meta = fw
    dev = Device(srv, image_size=SIZE)
    dev.desire(meta["id"])
    fed = []

    def renew(ev):
        if ev.kind == "progress" and ev.done >= SIZE * 0.3 and not fed:
            pack = json.loads(last_downlink(srv, dev.imei))
            file_id = pack[1]["vs"].rsplit("/", 1)[1]
            fs = srv.app[EMULATOR].fileserver
            token, _ = fs.token_for(file_id, ttl=120)
            for rec in pack:
                if rec.get("n") == "token":
                    assert rec["vs"] != token
                    rec["vs"] = token
            fed.append(token)
            client.feed_downlink(json.dumps(pack).encode())
    client = dev.client(on_event=renew)
    out = client.run(timeout=30)
    assert fed and out.version == "2.0.0" and dev.image(SIZE) == data
    assert out.stats["downlinks"] == 2 and out.stats["restarts"] == 0
    assert out.stats["bytes"] <= SIZE + 4096  # at most the part in flight again
    assert out.stats["connections"] == 2      # the new token: a new connection
