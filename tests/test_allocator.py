"""The allocator policy of the servers: the chunks of a streamed body reuse memory instead of faulting fresh pages."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from typing import Any

import pytest

CHUNKS_OF_A_DEPOSIT = """
import json, os, resource, sys
from concurrent.futures import ThreadPoolExecutor
from harness.foundations.allocator import keep_freed_memory

applied = keep_freed_memory() if sys.argv[1] == "policy" else None
pool, chunk = ThreadPoolExecutor(1), os.urandom(256 * 1024)

def deposit():
    # 80 chunks of 256 KiB made on this thread, freed on the pool's by batches of 4, one batch in flight
    in_flight, batch = None, []
    for _ in range(80):
        batch.append(bytes(bytearray(chunk)))
        if len(batch) == 4:
            if in_flight:
                in_flight.result()
            in_flight, batch = pool.submit(len, batch), []
    in_flight.result()

deposit()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    deposit()
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
print(json.dumps({"applied": applied, "faults": faults}))
"""
PAGES_OF_A_DEPOSIT = 80 * 256 * 1024 // 4096


def faults_per_deposit(mode: str, **environment: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | environment
    done = subprocess.run(
        [sys.executable, "-c", CHUNKS_OF_A_DEPOSIT, mode], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc policy")
def test_with_the_policy_a_deposit_s_chunks_land_on_pages_already_used() -> None:
    without, with_policy = faults_per_deposit("default"), faults_per_deposit("policy")
    assert with_policy["applied"] is True
    assert with_policy["faults"] < PAGES_OF_A_DEPOSIT / 20, (without, with_policy)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc policy")
def test_an_operator_s_own_tunable_is_left_in_force() -> None:
    assert faults_per_deposit("policy", MALLOC_TRIM_THRESHOLD_="131072")["applied"] is False
