"""libFuzzer (ASan + UBSan) on the modem's AT response parser, with a
split-invariance oracle inside the harness (fuzz/at_parser_fuzz.c)."""

import re

import pytest
from fuzzing import run_fuzzer


@pytest.mark.external_build
def test_fuzz_at_parser():
    log = run_fuzzer("at_parser", port_dirs=("modem",))
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    assert runs and int(runs.group(1)) > 1000, log[-2000:]


@pytest.mark.external_build
def test_fuzz_modem_driver():
    """The whole driver against a modem that says anything: calls return,
    results keep the transport contract."""
    log = run_fuzzer("modem", port_dirs=("modem",))
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    assert runs and int(runs.group(1)) > 1000, log[-2000:]
