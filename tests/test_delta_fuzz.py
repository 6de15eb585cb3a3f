"""libFuzzer run of the delta applier (fuzz/delta_fuzz.c): patches come from
the network, so every byte sequence must end in a defined result.  The seeds
in fuzz/corpus/delta are detools patches (first byte: the feed split) made
against the harness's source, bytes (i * 31 + (i >> 5)) & 0xff, i < 2048."""

import io

import detools
import pytest
from fuzzing import ROOT, run_fuzzer

SOURCE = bytes((i * 31 + (i >> 5)) & 0xFF for i in range(2048))


def test_seeds_are_detools_patches_against_the_harness_source():
    seeds = sorted((ROOT / "fuzz" / "corpus" / "delta").iterdir())
    assert len(seeds) >= 8
    for seed in seeds:
        out = io.BytesIO()
        detools.apply_patch(io.BytesIO(SOURCE), io.BytesIO(seed.read_bytes()[1:]), out)


@pytest.mark.external_build
def test_fuzz_delta():
    log = run_fuzzer("delta")
    assert "Done" in log or "stat::number_of_executed_units" in log, log[-2000:]
