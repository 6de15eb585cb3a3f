"""libFuzzer runs of the parsers of untrusted bytes in this module: MCUboot
images (from the network) and journal records (from flash a cut may tear)."""

import pytest
from fuzzing import run_fuzzer


@pytest.mark.external_build
@pytest.mark.parametrize("name", ["mcuboot", "journal"])
def test_fuzz(name):
    log = run_fuzzer(name)
    assert "Done" in log or "stat::number_of_executed_units" in log, log[-2000:]
