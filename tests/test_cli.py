"""The ``m2mfota`` command as a new user meets it: one-line errors with exit
status 1 (130 on Ctrl-C), never a traceback for a user's mistake; options
validated, honoured or refused; help text everywhere; ``--version``."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from m2mfota import __version__
from m2mfota.cli import DESCRIPTION, SUBCOMMANDS, build_parser, main

CLI = [sys.executable, "-m", "m2mfota.cli"]


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exits (--help, --version, usage errors)
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, cmd: str, *needles: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"m2mfota {cmd}: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.fixture
def not_sqlite(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    return str(path)


@pytest.mark.parametrize("argv, needles", [
    (["serve-files", "/nonexistent-dir"], ["/nonexistent-dir", "no such directory"]),
    (["serve", "--port", "99999"], ["--port", "65535"]),
    (["serve", "--db", "/nonexistent-dir/x.sqlite3"], ["does not exist"]),
    (["serve", "--public-url", "notaurl"], ["--public-url", "http://host[:port]"]),
    (["serve", "--public-url", "http://10.0.0.1:8080/path"], ["no path"]),
    (["serve", "--api-key", "short"], ["--api-key", "16-256"]),
    (["serve", "--token-ttl", "0"], ["--token-ttl", "more than 0"]),
    (["senml", "/nonexistent"], ["/nonexistent", "no such file"]),
    (["flash-sim", "--part-size", "0"], ["--part-size", "outside"]),
    (["flash-sim", "--sector-size", "0"], ["--sector-size", "outside"]),
    (["flash-sim", "--program-size", "3"], ["--program-size", "power of two"]),
    (["flash-sim", "--fail-part", "7"], ["--fail-part 7", "multiples of --part-size 4096"]),
    (["flash-sim", "--image-size", "300000"], ["does not fit"]),
    (["flash-sim", "--sector-size", "4096", "--program-size", "8192"], ["does not divide"]),
    (["demo", "--part-size", "100"], ["--part-size", "4096"]),
    (["demo", "--timeout", "0"], ["--timeout", "more than 0"]),
    (["demo", "--devices", "100000"], ["--devices", "1-1000"]),
    (["demo", "--size", "2000000000"], ["--size", str(16 * 1024 * 1024)]),
    (["demo", "--devices", "many"], ["'many' is not an integer"]),
])
def test_user_mistakes_are_one_line_errors(argv, needles, capsys):
    code, _, err = run_main(argv, capsys)
    assert_one_line_error(code, err, argv[0], *needles)


def test_serve_files_on_a_file_and_an_empty_directory(tmp_path, capsys):
    f = tmp_path / "fw.bin"
    f.write_bytes(b"x")
    assert_one_line_error(*run_main(["serve-files", str(f)], capsys)[::2], "serve-files",
                          "not a directory")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(*run_main(["serve-files", str(empty)], capsys)[::2], "serve-files",
                          "no files to serve")


def test_serve_on_a_file_that_is_no_database(not_sqlite, capsys):
    code, _, err = run_main(["serve", "--db", not_sqlite, "--port", "0"], capsys)
    assert_one_line_error(code, err, "serve", "database", "not a database")


def test_serve_refuses_another_applications_database_untouched(tmp_path, capsys):
    import sqlite3
    path = tmp_path / "app.sqlite3"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)")
    other.execute("INSERT INTO orders (item) VALUES ('modem')")
    other.commit()
    other.close()
    before = path.read_bytes()
    code, _, err = run_main(["serve", "--db", str(path), "--port", "0"], capsys)
    assert_one_line_error(code, err, "serve", "not an m2mfota emulator database", "orders")
    assert path.read_bytes() == before  # no tables added, not switched to WAL
    assert not (tmp_path / "app.sqlite3-wal").exists()


def test_serve_refuses_a_database_of_a_newer_emulator(tmp_path, capsys):
    import sqlite3

    from m2mfota.emulator import db
    path = tmp_path / "emu.sqlite3"
    db.connect(str(path)).close()
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version = {len(db.MIGRATIONS) + 1}")
    newer.close()
    code, _, err = run_main(["serve", "--db", str(path), "--port", "0"], capsys)
    assert_one_line_error(code, err, "serve", "newer than this emulator")


def test_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        for argv in (["serve", "--db", ":memory:", "--port", str(port)],
                     ["serve-files", str(tmp_path), "--port", str(port)]):
            if argv[0] == "serve-files":
                (tmp_path / "fw.bin").write_bytes(b"firmware")
            proc = subprocess.run(CLI + argv, capture_output=True, text=True, timeout=60)
            assert_one_line_error(proc.returncode, proc.stderr, argv[0],
                                  "address already in use")


def test_ctrl_c_during_demo_is_exit_130_without_traceback():
    # a fleet big enough to be still running when the signal comes (a small one can finish first)
    proc = subprocess.Popen(CLI + ["demo", "--devices", "4", "--size", "16000000",
                                   "--timeout", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or line.startswith("emulator"):
                break
        time.sleep(0.3)  # the fleet is running now
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "m2mfota demo: interrupted"


def test_version(capsys):
    code, out, _ = run_main(["--version"], capsys)
    assert code == 0 and out.strip() == f"m2mfota {__version__}"


def test_help_describes_the_tool_in_whole_sentences(capsys):
    code, out, _ = run_main(["--help"], capsys)
    assert code == 0
    flowed = re.sub(r"-\s+", "-", " ".join(out.split()))  # argparse wraps at hyphens too
    assert DESCRIPTION.endswith(".") and flowed.count(DESCRIPTION) == 1
    for name in SUBCOMMANDS:
        assert name in out


def test_every_option_has_help_text():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}"
               for name, sub in subparsers.choices.items() for action in sub._actions
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []


def test_a_bug_still_shows_its_traceback(monkeypatch):
    """Only user mistakes are caught: a programming error must stay visible."""
    import m2mfota.senml_cli as senml_cli

    def broken(args):
        raise TypeError("a bug")

    monkeypatch.setattr(senml_cli, "run", broken)
    with pytest.raises(TypeError):
        main(["senml", "-"])


def test_senml_thingsml_option(tmp_path, capsys):
    pack = tmp_path / "p.json"
    pack.write_text('[{"bn":"urn:dev:IMEI:1:","i_":-24,"v":21.5}]')
    code, out, err = run_main(["senml", str(pack), "--thingsml"], capsys)
    assert code == 0 and '"u": "Cel"' in out and "temperature" in out
    code, out, err = run_main(["senml", str(pack)], capsys)
    assert code == 1 and "MFOTA_ERR_SENML_MUST_UNDERSTAND" in err


def test_cli_module_runs_as_a_program():
    proc = subprocess.run(CLI + ["--version"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0 and proc.stdout.strip() == f"m2mfota {__version__}"


def test_demo_summary_fits_80_columns():
    """Whatever the terminal claims (here COLUMNS=200), the progress bars, the
    fleet table (fault names wrap) and the closing lines stay within 80."""
    proc = subprocess.run(CLI + ["demo", "--devices", "3", "--size", "20000", "--faults",
                                 "--timeout", "120"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any("m2mfota demo: fleet update" in line for line in lines)
    assert any(line.startswith("350000000000002") for line in lines)  # a table row
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []


def test_unknown_options_and_commands_are_one_line_errors(capsys):
    """An option a subcommand does not have is reported by that subcommand
    (argparse would name the top-level parser), an unknown command by m2mfota."""
    code, _, err = run_main(["modem-sim", "--port", "99999"], capsys)
    assert_one_line_error(code, err, "modem-sim", "unrecognized arguments: --port 99999",
                          "see m2mfota modem-sim --help")
    code, _, err = run_main(["frobnicate"], capsys)
    assert code == 1 and err.startswith("m2mfota: error: argument COMMAND: invalid choice")
    assert len(err.strip().splitlines()) == 1


def test_a_host_that_does_not_resolve_is_named(monkeypatch, capsys):
    import socket as socket_module

    def no_such_host(host, *args, **kwargs):
        raise socket_module.gaierror(socket_module.EAI_NONAME, "Name or service not known")

    # no DNS in the test: the resolver's own answer for a name that does not exist
    monkeypatch.setattr(socket_module, "getaddrinfo", no_such_host)
    code, _, err = run_main(["serve", "--db", ":memory:", "--host", "nohost.invalid",
                             "--port", "0"], capsys)
    assert_one_line_error(code, err, "serve", "--host nohost.invalid: Name or service not known")


@pytest.fixture
def as_unprivileged():
    """Run the body with the file permissions of an ordinary user: as root
    (this machine, containers) the effective uid drops to nobody's and comes
    back; as an ordinary user (CI) nothing changes.  The files made under it
    live in a directory that user can enter."""
    import shutil
    import tempfile

    import m2mfota.emulator.app  # noqa: F401  (imported while the venv is readable)

    build_parser()  # imports every subcommand's module now, for the same reason
    work = tempfile.mkdtemp(prefix="m2mfota-perm-")
    os.chmod(work, 0o777)
    root = os.geteuid() == 0

    class Drop:
        dir = work

        def __enter__(self):
            if root:
                os.seteuid(65534)

        def __exit__(self, *exc):
            if root:
                os.seteuid(0)

    try:
        yield Drop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_unreadable_input_and_read_only_database(as_unprivileged, capsys):
    import sqlite3

    work = as_unprivileged.dir
    unreadable = os.path.join(work, "pack.json")
    with open(unreadable, "w") as f:
        f.write("[]")
    os.chmod(unreadable, 0)
    read_only = os.path.join(work, "emu.sqlite3")
    sqlite3.connect(read_only).close()
    os.chmod(read_only, 0o444)
    with as_unprivileged:
        results = [(cmd, run_main(argv, capsys)) for cmd, argv in (
            ("senml", ["senml", unreadable]),
            ("delta", ["delta", unreadable, unreadable, "-o", os.path.join(work, "p")]),
            ("serve", ["serve", "--db", read_only, "--port", "0"]),
        )]
    for cmd, (code, _, err) in results:
        assert_one_line_error(code, err, cmd, "Permission denied")
    assert "emu.sqlite3" in results[2][1][2]


def test_serve_files_port_0_prints_the_port_it_listens_on(tmp_path):
    """With --port 0 the system picks the port: the URLs printed must name it.
    The request goes with bare LF line ends, as KPN's SDK writes them."""
    (tmp_path / "fw.bin").write_bytes(b"firmware bytes")
    proc = subprocess.Popen(CLI + ["serve-files", str(tmp_path), "--port", "0",
                                   "--exit-after", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        name, url, token = proc.stdout.readline().rstrip("\n").split("\t")
        serving = proc.stdout.readline().strip()
        port = int(serving.rsplit(":", 1)[1])
        assert port != 0 and url.startswith(f"http://127.0.0.1:{port}/f/v1/")
        path = "/" + url.split("/", 3)[3]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(f"GET {path} HTTP/1.1\nHost: m.m\nAuthorization: Bearer {token}\n"
                      "Connection: close\n\n".encode())
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nfirmware bytes")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
