"""The benchmark's own machinery: the floor's steps, the interleaved rounds, the spread and its warning."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import trustme

from harness.foundations.servers import LOOPBACK, BackgroundServer

LOAD = Path(__file__).resolve().parent.parent / "load"


def load_script(name: str) -> ModuleType:
    """A script of `load/` (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(name, LOAD / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


floor_server, bench_limit = load_script("floor_server"), load_script("bench_limit")
BODY = bytes(range(256)) * 12_000  # 3 MB: several batches of FEED_BATCH_BYTES


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    """The floor app on a free port of 127.0.0.1, over TLS, and a client that trusts it."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(LOOPBACK).configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    with (
        BackgroundServer(floor_server.floor_app(tmp_path), server_context, "plancher") as server,
        httpx.Client(base_url=server.url, verify=client_context) as client,
    ):
        yield client, tmp_path


def test_each_floor_step_does_its_work_and_no_more(floor: tuple[httpx.Client, Path]) -> None:
    client, directory = floor
    stream_only = client.post("/", params={"etapes": "flux"}, content=BODY)
    assert stream_only.status_code == 202
    assert stream_only.json() == {"tailleOctets": len(BODY), "empreinte": None}
    assert list(directory.iterdir()) == []
    hashed = client.post("/", params={"etapes": "empreinte"}, content=BODY).json()
    assert hashed["empreinte"] == hashlib.sha256(BODY).hexdigest()
    assert list(directory.iterdir()) == []
    assert client.post("/", params={"etapes": "ecriture"}, content=BODY).json() == hashed
    (written,) = directory.iterdir()
    assert written.read_bytes() == BODY
    written.unlink()
    assert client.post("/", params={"etapes": "fsync"}, content=BODY).json() == hashed
    (kept,) = directory.iterdir()
    assert kept.read_bytes() == BODY


def test_the_framed_floor_keeps_the_parts_bytes_only(floor: tuple[httpx.Client, Path]) -> None:
    client, directory = floor
    boundary = "limite-du-plancher"
    disposition = 'Content-Disposition: form-data; name="document"; filename="a.pdf"'
    framing = f"--{boundary}\r\n{disposition}\r\n\r\n".encode()
    content = framing + BODY + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    framed = client.post("/", params={"etapes": "multipart"}, content=content, headers=headers)
    assert framed.json() == {"tailleOctets": len(content), "empreinte": hashlib.sha256(BODY).hexdigest()}
    (kept,) = directory.iterdir()
    assert kept.read_bytes() == BODY
    unframed = client.post("/", params={"etapes": "multipart"}, content=BODY)
    assert unframed.status_code == 400


def test_the_whole_floor_is_the_default_and_an_unknown_step_is_refused(floor: tuple[httpx.Client, Path]) -> None:
    client, directory = floor
    assert client.post("/", content=BODY).json()["empreinte"] == hashlib.sha256(BODY).hexdigest()
    assert len(list(directory.iterdir())) == 1
    refused = client.post("/", params={"etapes": "tout"}, content=BODY)
    assert refused.status_code == 400
    assert refused.json() == {"etapes": [*floor_server.STEPS, floor_server.FRAMED]}


def test_rounds_rotate_the_order_and_each_measure_follows_its_own_warm_up() -> None:
    calls: list[str] = []

    def measure(name: str, ms: float) -> object:
        def taken() -> tuple[float, float]:
            calls.append(name)
            kept = calls.count(name) % 2 == 0  # the second of each pair; the first is its warm-up
            return (ms, 2 * ms) if kept else (99.0, 99.0)

        return taken

    samples = bench_limit.interleaved({"a": measure("a", 1.0), "b": measure("b", 2.0), "c": measure("c", 3.0)}, 3)
    assert calls == [name for name in "abcbcacabab" + "c" for _ in range(2)]
    assert samples == {"a": [(1.0, 2.0)] * 3, "b": [(2.0, 4.0)] * 3, "c": [(3.0, 6.0)] * 3}


def test_the_spread_gives_range_and_quartiles() -> None:
    spread = bench_limit.Spread.of([10.0, 11.0, 12.0, 13.0, 30.0])
    assert (spread.median, spread.low, spread.high, spread.q1, spread.q3) == (12.0, 10.0, 30.0, 11.0, 13.0)
    assert spread.relative_iqr == pytest.approx(2 / 12)
    assert spread.text() == "10.0-30.0 ; IQR 11.0-13.0 (17%)"


def test_a_figure_whose_spread_is_too_wide_comes_with_a_warning() -> None:
    def figure(samples: tuple[float, ...]) -> object:
        return bench_limit.Figure("(1) mesure", 12.0, "ms", "base", 10.0, "—", None, samples)

    steady, noisy = figure((11.0, 12.0, 12.0, 12.5, 13.0)), figure((10.0, 11.0, 12.0, 13.0, 30.0))
    single = bench_limit.Figure("(4) mesure unique", 12.0, "Mio", "base", 10.0, "—", None)
    warnings = bench_limit.untrustworthy([steady, noisy, single])
    assert len(warnings) == 1
    assert "IQR 17%" in warnings[0]
    assert noisy.to_json()["dispersion"]["q3"] == 13.0
    assert noisy.to_json()["samples"] == (10.0, 11.0, 12.0, 13.0, 30.0)


def test_a_figure_against_a_zero_baseline_has_no_ratio_and_stays_strict_json() -> None:
    faults = bench_limit.Figure("(1) défauts de page", 3.0, "défauts", "plancher", 0.0, "—", None, (3.0,), (0.0,))
    assert faults.to_json()["ratio"] is None
    json.dumps(faults.to_json(), allow_nan=False)  # raises on NaN, which strict JSON readers refuse
