"""``m2mfota demo --delta``: devices running 1.0.0 get a delta file instead
of the 2.0.0 image, rebuild 2.0.0 with the C engine, and the summary's bytes
sent and saved are those the file server sent (counted here on its side)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from m2mfota import demo
from m2mfota.cli import main
from m2mfota.emulator.fileserver import FileServer

pytest.importorskip("detools")

DEVICES = 3


def test_demo_delta_ends_on_v2_and_shows_the_bytes_the_server_sent(monkeypatch, capsys):
    # Count, on the file server's side, the body bytes each device was sent:
    # a file's counter is read when it is withdrawn (every device that ends
    # done has its file withdrawn).
    sent: Counter[str] = Counter()
    unpublish = FileServer.unpublish

    def counting_unpublish(self: FileServer, file_id: str) -> None:
        f = self._files.get(file_id)
        if f is not None:
            sent[f.device] += f.bytes_sent
        unpublish(self, file_id)

    monkeypatch.setattr(FileServer, "unpublish", counting_unpublish)
    # Every device is sent two parts with a wrong Digest (fetched again) and
    # the last one loses power mid-update (the delta starts again from its
    # first byte): what went over the wire is more than the delta file's size.
    monkeypatch.setattr(demo, "FAULT_MIX", [
        ("wrong digest", {"wrong_digest": True, "wrong_digest_times": 2})])
    monkeypatch.setenv("COLUMNS", "200")
    rc = main(["demo", "--delta", "--faults", "--devices", str(DEVICES), "--size", "60000",
               "--seed", "7", "--timeout", "120"])
    out = capsys.readouterr().out
    assert rc == 0, out
    lines = out.splitlines()
    assert [line for line in lines if len(line) > 80] == []
    image = int(re.search(r"firmware 2\.0\.0, (\d+) bytes", out).group(1))
    delta = int(re.search(r"delta file (\d+) bytes", out).group(1))
    assert delta < image // 10

    rows = {}
    for line in lines:
        m = re.match(r"(35\d{13}) +1\.0\.0 → (\S+) +(\w+) +(\d+) +(\d+) +(-?\d+) +[\d.]+ +"
                     r"[\d.]+s +(\w+)", line)
        if m:
            rows[m.group(1)] = m.groups()[1:]
    assert len(rows) == DEVICES and set(rows) == set(sent)
    for imei, (version, file, _req, shown, saved, result) in rows.items():
        assert (version, file, result) == ("2.0.0", "delta", "done")
        assert int(shown) == sent[imei]  # what the server sent, not a size
        assert int(saved) == image - sent[imei]
        assert sent[imei] >= 3 * delta  # the file and two parts again
    total = re.search(r"^total +\d+ +(\d+) +(\d+) ", out, flags=re.M)
    assert int(total.group(1)) == sum(sent.values())
    assert int(total.group(2)) == DEVICES * image - sum(sent.values())
    assert f"on the wire {sum(sent.values())} bytes instead of {DEVICES * image}" in out
    assert "every device runs 2.0.0" in out
