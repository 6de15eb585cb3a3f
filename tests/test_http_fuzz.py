"""libFuzzer (ASan + UBSan) on the HTTP response parser, with a split-
invariance oracle inside the harness."""

import re

import pytest
from fuzzing import run_fuzzer


@pytest.mark.external_build
def test_fuzz_http_response():
    log = run_fuzzer("http_response")
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    assert runs and int(runs.group(1)) > 1000, log[-2000:]


@pytest.mark.external_build
def test_fuzz_downloader():
    """The whole downloader against a fuzzed server: sink contract, termination."""
    log = run_fuzzer("downloader")
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    assert runs and int(runs.group(1)) > 1000, log[-2000:]
