"""The SARA-R4 AT transport (embedded_port/modem, through cffi) against the
modem simulator (m2mfota modem-sim): the AT parser on its own, then
downloads through the simulator for every fault of its list (the bytes
still arrive exact, or the right error comes back), echo on and off, a
silent modem and its recovery, two sockets at once, the refusal of any
address but 127.0.0.1, a link profile, and the simulator's command line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from fileserver_fixture import fileserver  # noqa: F401
from hypothesis import given
from hypothesis import strategies as st

from m2mfota.download import download
from m2mfota.modem import Modem, ModemError, parse_at
from m2mfota.modem_sim import PROFILES, Faults, ModemSim, RunningSim

FILE = os.urandom(24_000)


# ---- the AT parser (sans-IO) ------------------------------------------------

PAYLOAD = b'\r\nOK\r\n"@\x00+UUSOCL: 0\r\n' + bytes(range(256))
STREAM = (b"AT+USORD=0,%d\r" % len(PAYLOAD)
          + b'\r\n+USORD: 0,%d,"' % len(PAYLOAD) + PAYLOAD + b'"\r\n'
          + b"\r\n+UUSORD: 1,17\r\n"      # a URC inside the response
          + b"\r\nOK\r\n"
          + b"\r\n@"                       # AT+USOWR's prompt
          + b"\r\n+USOWR: 0,5\r\n\r\nOK\r\n"
          + b"\r\n+CME ERROR: 3\r\n"
          + b"\r\n+CME ERROR: Operation not allowed\r\n"
          + b"\r\n+UUSOCL: 1\r\n"
          + b'\r\n+USORD: 0,""\r\n\r\nOK\r\n'   # SARA-R4: nothing to read
          + b"\r\n+USORD: 0,23\r\n"             # length 0: how much is pending
          + b"\r\nERROR\r\n"
          + b"\r\n+" + b"X" * 200 + b"\r\n")    # longer than the line buffer

EXPECTED = [("echo", -1, -1), ("data_begin", 0, len(PAYLOAD)), ("data_end", -1, -1),
            ("urc_data", 1, 17), ("ok", -1, -1), ("prompt", -1, -1), ("usowr", 0, 5),
            ("ok", -1, -1), ("cme", 3, -1), ("cme", -1, -1), ("urc_closed", 1, -1),
            ("data_begin", 0, 0), ("data_end", -1, -1), ("ok", -1, -1),
            ("usord_len", 0, 23), ("error", -1, -1), ("other", -1, -1)]


def _summary(events):
    kinds = [(e.kind, e.a, e.b) for e in events if e.kind != "data"]
    return kinds, b"".join(e.data for e in events)


def test_at_parser_events_and_binary_payload():
    kinds, data = _summary(parse_at([STREAM]))
    assert kinds == EXPECTED
    assert data == PAYLOAD  # CR, LF, quotes, "@" and NUL inside are payload


@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_at_parser_split_anywhere(cuts):
    bounds = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in zip(bounds, bounds[1:])]
    assert _summary(parse_at(chunks)) == (EXPECTED, PAYLOAD)


def test_at_parser_every_single_byte_split():
    assert _summary(parse_at([bytes([b]) for b in STREAM])) == (EXPECTED, PAYLOAD)


# ---- helpers ------------------------------------------------------------------

def _sim(faults: str = "", **kw) -> RunningSim:
    return RunningSim(ModemSim(faults=faults, seed=7, **kw), max_lifetime=120)


def _download(fileserver, sim: RunningSim, data: bytes = FILE, **modem_kw):  # noqa: F811
    pub = fileserver.server.publish(data, device="modem-test", ttl=600)
    with Modem("127.0.0.1", sim.port, **modem_kw) as modem:
        result = download(fileserver.url(pub), pub.token, part_size=4096, timeout=5,
                          modem_socket=modem.socket(), max_retries=8)
        return result, modem.stats


# ---- downloads through the simulator -----------------------------------------

@pytest.mark.parametrize(("sim_echo", "echo_off"), [(True, False), (False, True), (True, True)])
def test_download_exact_with_echo_on_and_off(fileserver, sim_echo, echo_off):  # noqa: F811
    """Echo kept on for the whole download, off from power-up, and turned off
    by the driver (ATE0) after the first commands."""
    with _sim(echo=sim_echo) as sim:
        result, stats = _download(fileserver, sim, echo_off=echo_off)
        assert result.data == FILE
        assert (result.retries, stats["timeouts"], stats["errors"]) == (0, 0, 0)
        echoed = sim.sim.stats.echoed_commands
        if not sim_echo:
            assert echoed == 0
        elif echo_off:
            assert echoed == 2  # "AT" and "ATE0" itself
        else:
            assert echoed == stats["commands"] > 20
        assert stats["urcs"] > 0


def test_urcs_inside_responses(fileserver):  # noqa: F811
    with _sim("urc") as sim:
        result, stats = _download(fileserver, sim)
        assert result.data == FILE and result.retries == 0
        assert sim.sim.stats.faults["urc"] > 10
        assert stats["urcs"] > sim.sim.stats.urcs  # the injected ones were taken too


def test_responses_split_at_random_bytes(fileserver):  # noqa: F811
    with _sim("split,urc") as sim:
        result, _ = _download(fileserver, sim)
        assert result.data == FILE and result.retries == 0
        assert sim.sim.stats.faults["split"] > 40  # every response, payloads included


def test_cme_error_on_connect_then_success(fileserver):  # noqa: F811
    with _sim("cme-connect=2") as sim:
        result, stats = _download(fileserver, sim)
        assert result.data == FILE
        assert sim.sim.stats.faults["cme-connect"] == 2 and stats["errors"] >= 2


def test_cme_error_on_connect_every_time(fileserver):  # noqa: F811
    with _sim("cme-connect=1000") as sim:
        with pytest.raises(ModemError) as err, Modem("127.0.0.1", sim.port) as modem:
            modem.socket().connect("127.0.0.1", fileserver.port)
        assert err.value.code == "MFOTA_ERR_DL_CONNECT"
        assert modem.last_cme == 3


def test_plain_error_when_the_modem_refuses_cmee(fileserver):  # noqa: F811
    """A firmware that answers AT+CMEE=1 with ERROR: every error then comes
    as a bare ERROR, and the driver still tells them apart by command."""
    with _sim("cme-connect=1,cme-write=1", cmee_supported=False) as sim:
        with Modem("127.0.0.1", sim.port) as modem:
            s = modem.socket()
            with pytest.raises(ModemError) as err:
                s.connect("127.0.0.1", fileserver.port)
            assert err.value.code == "MFOTA_ERR_DL_CONNECT" and modem.last_cme == -1
            s.connect("127.0.0.1", fileserver.port)
            with pytest.raises(ModemError) as err:
                s.send(b"GET / HTTP/1.1\r\n\r\n")
            assert err.value.code == "MFOTA_ERR_DL_IO"
            assert s.send(b"GET / HTTP/1.1\r\n\r\n") == 18
            assert modem.stats["errors"] == 3  # CMEE, connect, write


def test_cme_error_on_write(fileserver):  # noqa: F811
    with _sim("cme-write=2") as sim:
        result, _ = _download(fileserver, sim)
        assert result.data == FILE
        assert sim.sim.stats.faults["cme-write"] == 2 and result.retries >= 1


def test_remote_close_mid_download(fileserver):  # noqa: F811
    with _sim("close-after=9000") as sim:
        result, _ = _download(fileserver, sim)
        assert result.data == FILE
        assert sim.sim.stats.faults["close-after"] == 1
        assert result.connections == 2 and result.retries >= 1


def test_silent_modem_is_probed_and_recovers(fileserver):  # noqa: F811
    with _sim("silent=1.5@12") as sim:
        start = time.monotonic()
        result, stats = _download(fileserver, sim, cmd_timeout=1.0, probe_timeout=0.3)
        assert result.data == FILE
        assert sim.sim.stats.faults["silent"] == 1
        assert stats["timeouts"] >= 1 and stats["probes"] >= 2
        assert time.monotonic() - start > 1.5


def test_modem_that_never_answers_fails_fast():
    """A UART with nothing behind it: each call probes once and gives up."""
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        dead.listen()
        with Modem("127.0.0.1", dead.getsockname()[1], probe_timeout=0.2) as modem:
            start = time.monotonic()
            assert not modem.probe()
            with pytest.raises(ModemError) as err:
                modem.socket().connect("127.0.0.1", 80)
            assert err.value.code == "MFOTA_ERR_DL_TIMEOUT"
            assert time.monotonic() - start < 2
            assert modem.suspect


def test_only_127_0_0_1_is_reachable():
    with _sim() as sim, Modem("127.0.0.1", sim.port) as modem:
        s = modem.socket()
        with pytest.raises(ModemError) as err:
            s.connect("10.151.236.136", 80)
        assert err.value.code == "MFOTA_ERR_DL_CONNECT"
        assert modem.last_cme == 3 and sim.sim.stats.refused == 1
        assert s.id == -1  # the modem's socket was given back


def test_two_sockets_at_once():
    servers = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    try:
        with _sim("urc") as sim, Modem("127.0.0.1", sim.port) as modem:
            socks = [modem.socket(), modem.socket()]
            peers = []
            for s, srv in zip(socks, servers):
                s.connect("127.0.0.1", srv.getsockname()[1])
                peers.append(srv.accept()[0])
            assert socks[0].id != socks[1].id
            blobs = [os.urandom(3000), os.urandom(2500)]
            for peer, blob in zip(peers, blobs):
                peer.sendall(blob)
            got = [b"", b""]
            deadline = time.monotonic() + 10
            while got != blobs and time.monotonic() < deadline:
                for i in (1, 0):  # read the second socket first: URCs are per socket
                    if len(got[i]) < len(blobs[i]):
                        got[i] += socks[i].recv(700, 0.2) or b""
            assert got == blobs
            socks[0].sendall(b"up" * 800)
            peers[0].settimeout(5)
            sent = b""
            while len(sent) < 1600:
                sent += peers[0].recv(4096)
            assert sent == b"up" * 800
            peers[1].close()  # the far end closes: +UUSOCL, recv says so
            assert socks[1].recv(100, 3.0) == b""
            for p in peers[:1]:
                p.close()
    finally:
        for srv in servers:
            srv.close()


def test_slow_uart_paces_the_transfer(fileserver):  # noqa: F811
    data = FILE[:6000]
    with _sim(baud=115200) as sim:
        start = time.monotonic()
        result, _ = _download(fileserver, sim, data)
        elapsed = time.monotonic() - start
        assert result.data == data
        # Every byte crossed the UART at 11520 bytes/s.
        assert elapsed >= sim.sim.stats.uart_bytes_out * 10 / 115200 * 0.9


def test_ltem_profile_latency_and_rate(fileserver):  # noqa: F811
    profile = PROFILES["ltem"]
    data = FILE[:12_000]
    with _sim(link="ltem") as sim:
        start = time.monotonic()
        result, _ = _download(fileserver, sim, data)
        elapsed = time.monotonic() - start
        assert result.data == data
        floor = len(data) / profile.down_bps + 2 * profile.latency_s * result.requests
        assert elapsed >= floor * 0.9, (elapsed, floor)


def test_faults_spec_parsing():
    f = Faults.parse("urc,split,cme-connect,cme-write=3,close-after=100,silent=2.5@4")
    assert (f.urc, f.split, f.cme_connect, f.cme_write, f.close_after, f.silent_s,
            f.silent_after) == (True, True, 1, 3, 100, 2.5, 4)
    for bad in ("loud", "silent", "close-after", "cme-write=x", "urc=1", "cme-connect=-1"):
        with pytest.raises(ValueError):
            Faults.parse(bad)


# ---- the command line -----------------------------------------------------------

def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "m2mfota.cli", "modem-sim", *args],
                          capture_output=True, text=True, timeout=30, **kw)


@pytest.mark.parametrize("args", [
    [], ["--listen", "nowhere"], ["--listen", "127.0.0.1:99999"],
    ["--listen", "127.0.0.1:0", "--link", "5g"], ["--listen", "127.0.0.1:0", "--uart-baud", "x"],
    ["--listen", "127.0.0.1:0", "--faults", "melt"], ["--listen", "127.0.0.1:0", "--seed", "s"],
])
def test_cli_bad_arguments_one_line(args):
    proc = _cli(*args)
    assert proc.returncode == 1  # the one error path of m2mfota.cli
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("m2mfota modem-sim: error: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_serves_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "m2mfota.cli", "modem-sim", "--listen",
                             "127.0.0.1:0", "--echo", "off", "--exit-after", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(line.split()[2].rsplit(":", 1)[1])
        with Modem("127.0.0.1", port) as modem:
            assert modem.probe()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "commands" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_socket_number_reused_after_peer_close():
    """The peer closes socket A (+UUSOCL); the modem then hands A's number to
    B: B's data URCs must reach B at once, and A still reads as closed."""
    servers = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    try:
        with _sim() as sim, Modem("127.0.0.1", sim.port) as modem:
            a, b = modem.socket(), modem.socket()
            a.connect("127.0.0.1", servers[0].getsockname()[1])
            peer_a = servers[0].accept()[0]
            b.connect("127.0.0.1", servers[1].getsockname()[1])
            servers[1].accept()[0].close()
            assert (a.id, b.id) == (0, 1)
            peer_a.close()
            modem.poll(0.5)  # the +UUSOCL for A arrives; A is not close()d
            b.close()
            b.connect("127.0.0.1", servers[1].getsockname()[1])
            assert b.id == 0  # the modem's lowest free number: A's
            peer_b = servers[1].accept()[0]
            peer_b.sendall(b"for b")
            # Shorter than the driver's lost-URC query: only the URC can help.
            got = b.recv(100, 0.3)
            assert got == b"for b"
            assert a.recv(100, 0.1) == b""
            peer_b.close()
    finally:
        for srv in servers:
            srv.close()


def test_urc_lost_in_a_silence_is_recovered_with_short_recv_timeouts():
    """Data arrives while the modem is silent, so its +UUSORD is lost.  The
    driver asks AT+USORD=s,0 once the socket had no news for 500 ms, even
    though each recv() waits only 100 ms."""
    with socket.create_server(("127.0.0.1", 0)) as srv, _sim("silent=1.0@5") as sim, \
            Modem("127.0.0.1", sim.port, probe_timeout=0.2) as modem:
        s = modem.socket()
        s.connect("127.0.0.1", srv.getsockname()[1])  # AT, ATE0, CMEE, USOCR, USOCO
        peer = srv.accept()[0]
        assert not modem.probe()  # the 6th command: the modem goes silent
        peer.sendall(b"while you slept")
        time.sleep(1.1)
        got = None
        for _ in range(15):
            got = s.recv(100, 0.1)
            if got:
                break
        assert got == b"while you slept"
        assert sim.sim.stats.faults["silent"] == 1
        peer.close()
