"""Benchmark of the reference titulaire at the 20 MB limit: each figure against a baseline of the same run.

    .venv/bin/python load/bench_limit.py [--rounds 9] [--json bench.json]

1. a deposit just under the limit through the full stack (mutual TLS, OAuth 2.0, contract, multipart,
   hashing, durable write) ÷ the physical floor (`floor_server.py`: same server, same TLS, same bytes
   streamed, hashed, written and fsynced) — target ≤ 1.15 times; beside it, the floor's own steps (stream
   only, + hash, + write, + fsync), measured in the same rounds, so that a regression points at its step,
   and the whole floor behind the reference's multipart parser (the full stack ÷ that one is what the stack
   costs beyond the deposit's format), and the stack's overhead in ms round by round (a ratio gets
   stricter as the floor gets faster, an overhead does not); and the CPU time of each server until the
   client has its answer (all threads, from Linux's schedstat; for the reference it includes what starts
   meanwhile: the response audit) — a figure a busy machine disturbs far less than wall time; and the
   minor page faults of each server meanwhile (both keep freed memory for reuse, see
   `harness/foundations/allocator.py`: without it a deposit's chunks land on pages never touched, some
   3,400 faults per deposit);
2. refusing a declared over-limit body (25 MB, 200 MB) to a client sending `Expect: 100-continue`
   ÷ a minimal round trip — must not grow with the size; and what a client without Expect sees (413);
3. bytes the application read of a chunked over-limit body before refusing it ÷ the limit — target
   ≤ limit + 1 MiB;
4. peak RSS growth of the reference while 8 deposits of 20 MB run at once ÷ the bytes in flight —
   target ≤ 64 MiB;
5. p50 / p95 of the return delay (202 → return received by the ASP's mock) at a fixed rate of small
   deposits ÷ a minimal round trip — target p95 ≤ 1 s;
6. responsiveness: p99 of `GET /v1/sante` while 8 deposits of 20 MB upload ÷ the same p99 idle — target
   ≤ 3 (the event loop is never held by the store, the disk or the parser).

`--mesures 1,6` runs only the figures named; `--mesures 1 --rounds 9` is the quick way to figure (1).

The rounds of (1) are interleaved: each round measures the full stack and every step of the floor once,
in an order rotated from round to round, after a warm-up round that is discarded; each measure is taken
right after the same work done once more and discarded, so that every measure finds its server hot from
identical work (without it the floor, measured several times in a row, ran hot while the reference ran after
an idle spell); the reference's background work for a deposit (worker, return, acknowledgement) is over
before the next measure starts.
Once a measure is over, the files it wrote are removed (the floor's, and the settled deposit's documents
in the reference's data directory), so that every measure writes into page-cache memory the machine has
already used: on this kind of virtual machine a 20 MB write into guest pages never touched before costs
about 5 times more kernel time (80 ms instead of 16, host page faults) than one into recycled pages, and
a reference that keeps its documents while the floor recycles its own made the ratio bimodal (1.07 or 1.5
from one run to the next, issue 20).
Every repeated figure is printed as its median with its spread (min-max and interquartile range); a
warning says when the spread is too wide to trust the run (IQR > 15 % of the median). `--json` keeps
every round's figures and the load average of the machine at the start and at the end.

The reference and the floor run as subprocesses (`python -m harness.reference`), the mocks in this one.
It prints the table and exits 0 whatever the figures: timings are figures, never verdicts of a test.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from harness.campaign.environment import Environment
from harness.foundations.asp_client import AspClient, DepositBody, Document
from harness.foundations.polling import wait_until
from harness.foundations.servers import LOOPBACK, BackgroundServer, free_port
from harness.foundations.tokens import ClientCredentialsAuth
from harness.load.memory import MIB, RssSampler
from harness.load.profiles import NEAR_LIMIT_MARGIN_BYTES

HERE = Path(__file__).resolve().parent
MB = 1_000_000
CONCURRENT_DEPOSITS = 8
RETURN_RATE_PER_SECOND = 10.0
RETURN_DEPOSITS = 40
IDLE_HEALTH_SAMPLES = 200
START_TIMEOUT_SECONDS = 30.0
CHEAP_ROUNDS_FACTOR = 5
"""Measures of a few ms are repeated this many times more (their median is noisier on a busy machine)."""
FEW_MS = 10.0
"""(2): a refusal that does not read the body takes a round trip and a little work: a few ms."""
META = {
    "applicationSource": "BANC",
    "referenceContrat": "MARCHE-BANC",
    "identifiantDossier": "BANC-LIMITE",
    "numeroIteration": 1,
}
"""In the harness's (callback) model; written in the bench's major on the wire."""
PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"
FULL_STACK_TARGET = 1.15
"""(1): the full stack's median ÷ the floor's median, at most."""
UNTRUSTWORTHY_IQR = 0.15
"""A figure whose interquartile range exceeds this fraction of its median comes with a warning."""
FLOOR_STEPS = {
    "flux": "flux seul",
    "empreinte": "+ empreinte",
    "ecriture": "+ écriture",
    "fsync": "+ fsync (complet)",
    "multipart": "complet derrière le découpage multipart",
}
"""(1): the floor's steps (`floor_server.py`, `?etapes=`), each adding its work to the previous ones; the last
one is the whole floor behind the reference's multipart parser."""
SETTLE_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Spread:
    """How repeated measures of one figure spread: median, min-max, quartiles."""

    median: float
    low: float
    high: float
    q1: float
    q3: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive") if len(samples) > 1 else [samples[0]] * 3
        return cls(statistics.median(samples), min(samples), max(samples), q1, q3)

    @property
    def relative_iqr(self) -> float:
        return (self.q3 - self.q1) / self.median if self.median else 0.0

    def text(self, digits: int = 1) -> str:
        return (
            f"{self.low:.{digits}f}-{self.high:.{digits}f} ; IQR {self.q1:.{digits}f}-{self.q3:.{digits}f} "
            f"({self.relative_iqr:.0%})"
        )


@dataclass(frozen=True)
class Figure:
    """One line of the table: a measure, its baseline of the same run, and its target."""

    measure: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    target: str
    met: bool | None
    samples: tuple[float, ...] = ()
    """The repeated measures whose median is `value`, round by round (none for a single measure or a percentile)."""
    baseline_samples: tuple[float, ...] = ()

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")

    @property
    def spread(self) -> Spread | None:
        return Spread.of(self.samples) if self.samples else None

    def to_json(self) -> dict[str, Any]:
        spreads = {
            "dispersion": self.spread,
            "dispersion_base": Spread.of(self.baseline_samples) if self.baseline_samples else None,
        }
        return (
            dataclasses.asdict(self)
            | {"ratio": self.ratio if self.baseline else None}  # strict JSON has no NaN
            | {k: v and dataclasses.asdict(v) for k, v in spreads.items()}
        )


# -- servers ------------------------------------------------------------------------------------------


class ServerProcess:
    """A server subprocess on a free port of 127.0.0.1, ready once it completes a TLS handshake."""

    def __init__(self, command: list[str], port: int, context: ssl.SSLContext, log: Path) -> None:
        self.port = port
        self.url = f"https://{LOOPBACK}:{port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(context)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, context: ssl.SSLContext) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"le serveur s'est arrêté au démarrage (voir {self._log.name})")
            with contextlib.suppress(OSError):
                with socket.create_connection((LOOPBACK, self.port), timeout=1) as raw:
                    context.wrap_socket(raw, server_hostname=LOOPBACK).close()
                return
            time.sleep(0.1)
        raise RuntimeError(f"le serveur n'a pas démarré en {START_TIMEOUT_SECONDS:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


class Bench:
    """The mocks (in this process), the reference and the floor (subprocesses), and their clients."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.stack = contextlib.ExitStack()

    def asp_client(self, url: str) -> AspClient:
        """An ASP client of the bench's major (the calendar's current one on the environment's date)."""
        return AspClient(url, self.context, self.auth, major=self.major)

    @property
    def deposits_path(self) -> str:
        return self.major.path("/depots")

    def __enter__(self) -> Bench:
        try:
            self._start()
        except BaseException:
            self.stack.close()  # a server that did start must not outlive the failed bench
            raise
        return self

    def _start(self) -> None:
        self.env = self.stack.enter_context(Environment(self.directory / "environnement"))
        certs = self.env.certs
        self.context = certs.client_context(certs.asp_client)
        self.settings = dataclasses.replace(self.env.titulaire.settings, data_dir=self.directory / "reference")
        self.reference = self._start_reference()
        self.floor = self._start_floor()
        self.auth = ClientCredentialsAuth(self.env.credentials(), self.context)
        self.major = self.env.current_major()
        self.client = self.stack.enter_context(self.asp_client(self.reference.url))
        self.floor_http = self.stack.enter_context(httpx.Client(base_url=self.floor.url, verify=self.context))
        self.inspector = self.stack.enter_context(self.env.inspector())

    def _start_reference(self) -> ServerProcess:
        settings_file = self.directory / "reference.json"
        settings_file.write_text(json.dumps(self.settings.to_json()), encoding="utf-8")
        certs = self.env.certs
        port = free_port()
        command = [
            sys.executable, "-m", "harness.reference", str(settings_file), "--port", str(port),
            "--server-cert", str(certs.server.cert), "--server-key", str(certs.server.key),
        ]  # fmt: skip
        server = ServerProcess(command, port, self.context, self.directory / "reference.log")
        self.stack.callback(server.stop)
        return server

    def _start_floor(self) -> ServerProcess:
        certs = self.env.certs
        self.floor_directory.mkdir()
        port = free_port()
        command = [
            sys.executable, str(HERE / "floor_server.py"), "--port", str(port), "--cert", str(certs.server.cert),
            "--key", str(certs.server.key), "--ca", str(certs.ca), "--dir", str(self.floor_directory),
        ]  # fmt: skip
        server = ServerProcess(command, port, self.context, self.directory / "plancher.log")
        self.stack.callback(server.stop)
        return server

    @property
    def floor_directory(self) -> Path:
        return self.directory / "plancher"

    def __exit__(self, *_exc: object) -> None:
        self.stack.close()

    def bearer(self) -> str:
        """A token of the ASP's client, as the ASP client obtains it."""
        request = httpx.Request("GET", self.reference.url)
        flow = self.auth.sync_auth_flow(request)
        return next(flow).headers["Authorization"]


# -- timing helpers -------------------------------------------------------------------------------------


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def median_of(rounds: int, action: Callable[[], float]) -> float:
    return statistics.median(action() for _ in range(rounds))


def tls_connection(bench: Bench, port: int) -> ssl.SSLSocket:
    raw = socket.create_connection((LOOPBACK, port), timeout=30)
    return bench.context.wrap_socket(raw, server_hostname=LOOPBACK)


def read_head(tls: ssl.SSLSocket) -> bytes:
    """The response's status line and headers."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = tls.recv(65536)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n\r\n", 1)[0]


def round_trip(bench: Bench) -> float:
    """A minimal request on a fresh mutual-TLS connection to the floor: handshake excluded."""
    with tls_connection(bench, bench.floor.port) as tls:
        start = time.perf_counter()
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {LOOPBACK}\r\n\r\n".encode())
        read_head(tls)
        return time.perf_counter() - start


# -- 1. full stack ÷ physical floor ---------------------------------------------------------------------


Measure = Callable[[], tuple[float, ...]]
"""One measure of a round: the figures it takes (the client's wall time in ms, then what its server used)."""


def interleaved(measures: dict[str, Measure], rounds: int) -> dict[str, list[tuple[float, ...]]]:
    """`rounds` rounds of every measure (its figures), after a warm-up round that is discarded.

    Round r starts at the r-th measure (a rotation); each measure is kept from its second of two runs in a
    row, so that it follows its own work, never another server's; the garbage collector of this process is
    off during each kept measure (it collects between them).
    """
    names = list(measures)
    samples: dict[str, list[tuple[float, ...]]] = {name: [] for name in names}
    for index in range(rounds + 1):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            measures[name]()  # the same work just before: each measure finds its server hot from it
            gc.disable()
            try:
                figures = measures[name]()
            finally:
                gc.enable()
            if index:  # round 0 warms connections, token and caches up
                samples[name].append(figures)
    return samples


def settled(bench: Bench, id_depot: str) -> None:
    """Wait until the reference has nothing left to do for a deposit: its return received by the mock and
    the acknowledgement recorded (ACQUITTE), so that neither its worker nor its outbox runs during the next
    measure."""
    bench.inspector.wait_for_return(id_depot, timeout=SETTLE_TIMEOUT_SECONDS)
    wait_until(
        lambda: bench.client.state(id_depot).json()["statut"] == "ACQUITTE" or None,
        f"dépôt {id_depot} acquitté",
        SETTLE_TIMEOUT_SECONDS,
    )


def full_stack_versus_floor(bench: Bench, rounds: int) -> tuple[list[Figure], list[str]]:
    limit = bench.settings.limit_bytes
    size = bench.client.body_size_for_transaction(limit - NEAR_LIMIT_MARGIN_BYTES, META)
    body = DepositBody.of_size(bench.major.wire_metadata(META), size)
    content, headers = body.content(), {"Content-Type": body.content_type}

    def reference() -> tuple[float, float, float]:
        post = bench.client.http.post
        before = ServerUsage.of(bench.reference.pid)
        elapsed, response = timed(lambda: post(bench.deposits_path, content=content, headers=headers))
        used = ServerUsage.of(bench.reference.pid) - before
        assert response.status_code == 202, response.text
        id_depot = response.json()["idDepot"]
        settled(bench, id_depot)
        shutil.rmtree(bench.settings.data_dir / "depots" / id_depot)
        return elapsed * 1000, used.cpu_ms, used.page_faults

    def floor(step: str) -> Measure:
        def measure() -> tuple[float, float, float]:
            post = bench.floor_http.post
            before = ServerUsage.of(bench.floor.pid)
            elapsed, response = timed(lambda: post("/", params={"etapes": step}, content=content, headers=headers))
            assert response.status_code == 202, response.text
            used = ServerUsage.of(bench.floor.pid) - before
            for written in bench.floor_directory.iterdir():
                written.unlink()
            return elapsed * 1000, used.cpu_ms, used.page_faults

        return measure

    samples = interleaved({"pile": reference} | {step: floor(step) for step in FLOOR_STEPS}, rounds)
    wall = {name: [s[0] for s in measured] for name, measured in samples.items()}
    cpu = {name: [s[1] for s in measured] for name, measured in samples.items()}
    faults = {name: [s[2] for s in measured] for name, measured in samples.items()}
    full, bare = wall["pile"], wall["fsync"]
    ratio = statistics.median(full) / statistics.median(bare)
    figures = [
        Figure(
            f"(1) dépôt de {size / MB:.2f} Mo accepté, pile complète", statistics.median(full), "ms",
            "plancher physique", statistics.median(bare), f"ratio ≤ {FULL_STACK_TARGET:.2f}".replace(".", ","),
            ratio <= FULL_STACK_TARGET, tuple(full), tuple(bare),
        ),
        *floor_steps(wall, "plancher"),
        Figure(
            "(1) temps CPU du serveur jusqu'au 202, pile complète", statistics.median(cpu["pile"]), "ms",
            "CPU du plancher", statistics.median(cpu["fsync"]), "—", None, tuple(cpu["pile"]), tuple(cpu["fsync"]),
        ),
        *floor_steps(cpu, "CPU du plancher"),
        Figure(
            "(1) défauts de page mineurs du serveur jusqu'au 202, pile complète", statistics.median(faults["pile"]),
            "défauts", "plancher", statistics.median(faults["fsync"]), "—", None, tuple(faults["pile"]),
            tuple(faults["fsync"]),
        ),
    ]  # fmt: skip
    per_round = Spread.of([f / b for f, b in zip(full, bare, strict=True)])
    framed = Spread.of([f / b for f, b in zip(full, wall["multipart"], strict=True)])
    overhead = Spread.of([f - b for f, b in zip(full, bare, strict=True)])
    return figures, [
        f"(1) pile complète ÷ plancher, manche par manche : médiane {per_round.median:.2f}, {per_round.text(2)}",
        f"(1) pile complète ÷ plancher derrière le découpage multipart, manche par manche : médiane "
        f"{framed.median:.2f}, {framed.text(2)} (ce que coûte la pile au-delà du format du dépôt)",
        f"(1) surcoût de la pile en ms (pile moins plancher), manche par manche : médiane {overhead.median:.1f}, "
        f"{overhead.text()} (le ratio se durcit quand le plancher s'améliore ; ce surcoût, non)",
    ]


def floor_steps(samples: dict[str, list[float]], what: str) -> list[Figure]:
    """The figures of the floor's steps, each against the whole floor."""
    whole = statistics.median(samples["fsync"])
    return [
        Figure(
            f"(1) {what} : {label}", statistics.median(samples[step]), "ms", f"{what} complet", whole, "—", None,
            tuple(samples[step]),
        )
        for step, label in FLOOR_STEPS.items()
    ]  # fmt: skip


@dataclass(frozen=True)
class ServerUsage:
    """What a server process has used so far: the CPU time of its threads, in ms to the nanosecond (Linux's
    schedstat: psutil's user + system times count in ticks of 10 ms, too coarse for one deposit), and its
    minor page faults (a body's chunks landing on pages never touched: `allocator.py`)."""

    cpu_ms: float
    page_faults: int

    @classmethod
    def of(cls, pid: int) -> ServerUsage:
        nanoseconds = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a thread that just ended
                nanoseconds += int((task / "schedstat").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return cls(nanoseconds / 1e6, int(fields[7]))  # minflt, the 10th field of proc(5)

    def __sub__(self, other: ServerUsage) -> ServerUsage:
        return ServerUsage(self.cpu_ms - other.cpu_ms, self.page_faults - other.page_faults)


# -- 2. declared over-limit bodies ------------------------------------------------------------------------


def expect_refusal(bench: Bench, size: int, token: str) -> tuple[float, bytes]:
    """Headers only, with Expect: 100-continue: time to the 413 (handshake excluded), and the status line."""
    request = (
        f"POST {bench.deposits_path} HTTP/1.1\r\nHost: {LOOPBACK}\r\nAuthorization: {token}\r\n"
        f"Content-Type: multipart/form-data; boundary=banc\r\nContent-Length: {size}\r\nExpect: 100-continue\r\n\r\n"
    )
    with tls_connection(bench, bench.reference.port) as tls:
        start = time.perf_counter()
        tls.sendall(request.encode())
        head = read_head(tls)
        return time.perf_counter() - start, head.split(b"\r\n", 1)[0]


def zeros(size: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    block = b"\0" * chunk
    for start in range(0, size, chunk):
        yield block[: min(chunk, size - start)]


def without_expect(bench: Bench, size: int) -> tuple[float, str]:
    """A client that sends the whole declared body anyway: what it receives, and when."""
    headers = {"Content-Type": "multipart/form-data; boundary=banc", "Content-Length": str(size)}
    try:
        post = bench.client.http.post
        elapsed, response = timed(lambda: post(bench.deposits_path, content=zeros(size), headers=headers))
    except httpx.HTTPError as error:
        return float("nan"), f"{type(error).__name__} (coupure)"
    return elapsed, f"{response.status_code} {response.json().get('code', '')}"


def declared_refusals(bench: Bench, rounds: int) -> tuple[list[Figure], list[str]]:
    """Both sizes and the baseline interleaved round by round, so that a busy machine weighs on all alike."""
    token, sizes = bench.bearer(), (25 * MB, 200 * MB)
    samples: dict[Any, list[Any]] = {size: [] for size in (*sizes, "base")}
    for _ in range(rounds * CHEAP_ROUNDS_FACTOR):
        samples["base"].append(round_trip(bench))
        for size in sizes:
            samples[size].append(expect_refusal(bench, size, token))
    base = tuple(elapsed * 1000 for elapsed in samples["base"])
    figures, notes = [], []
    for size in sizes:
        refused = all(status.startswith(b"HTTP/1.1 413") for _, status in samples[size])
        times = tuple(elapsed * 1000 for elapsed, _ in samples[size])
        value = statistics.median(times)
        figures.append(
            Figure(
                f"(2) refus de {size // MB} Mo déclarés, Expect: 100-continue",
                value, "ms", "aller-retour minimal", statistics.median(base),
                "413 en quelques ms", refused and value <= FEW_MS, times, base,
            )
        )  # fmt: skip
    growth = figures[1].value / figures[0].value
    notes.append(f"(2) refus de 200 Mo ÷ refus de 25 Mo : {growth:.2f} (ne croît pas avec la taille si ≈ 1)")
    for size in sizes:
        elapsed, seen = without_expect(bench, size)
        notes.append(f"(2) sans Expect, {size // MB} Mo envoyés quand même : {seen} après {elapsed * 1000:.0f} ms")
    return figures, notes


# -- 3. bytes read of a chunked over-limit body -------------------------------------------------------------


class ReadCounter:
    """ASGI wrapper: the body bytes the application read before it started its response."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.read_before_answer: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        count = [0, False]

        async def counting_receive() -> Any:
            message = await receive()
            if not count[1]:
                count[0] += len(message.get("body", b""))
            return message

        async def noting_send(message: Any) -> None:
            if message["type"] == "http.response.start" and not count[1]:
                count[1] = True
                self.read_before_answer.append(count[0])
            await send(message)

        await self.app(scope, counting_receive, noting_send)


def chunked_bytes_read(bench: Bench) -> list[Figure]:
    """The reference in this process, wrapped by `ReadCounter`, refusing a chunked body twice the limit."""
    from harness.reference.app import create_app
    from harness.reference.service import Titulaire

    limit = bench.settings.limit_bytes
    settings = dataclasses.replace(bench.settings, data_dir=bench.directory / "reference-compteur")
    counter = ReadCounter(create_app(Titulaire(settings)))
    with (
        BackgroundServer(counter, bench.env.certs.server_context(), "compteur") as server,
        bench.asp_client(server.url) as client,
    ):
        response = client.send_body(DepositBody.of_size(bench.major.wire_metadata(META), 2 * limit), chunked=True)
    read = counter.read_before_answer[-1]
    return [
        Figure(
            f"(3) lus d'un corps chunked de {2 * limit / MB:.0f} Mo avant le refus {response.status_code}",
            read / MIB, "Mio", "limite", limit / MIB, "≤ limite + 1 Mio", read <= limit + MIB,
        )
    ]  # fmt: skip


# -- 4. memory under concurrent deposits at the limit --------------------------------------------------------


@dataclass
class ConcurrentUploads:
    """`CONCURRENT_DEPOSITS` clients, each ready to post the same deposit just under the limit."""

    size: int
    clients: list[AspClient]
    post: Callable[[AspClient], httpx.Response]


@contextlib.contextmanager
def concurrent_uploads(bench: Bench) -> Iterator[ConcurrentUploads]:
    """The clients and the deposit of figures (4) and (6); the clients are closed afterwards."""
    size = bench.client.body_size_for_transaction(bench.settings.limit_bytes - NEAR_LIMIT_MARGIN_BYTES, META)
    body = DepositBody.of_size(bench.major.wire_metadata(META), size)
    content, headers = body.content(), {"Content-Type": body.content_type}
    clients = [bench.asp_client(bench.reference.url) for _ in range(CONCURRENT_DEPOSITS)]
    try:
        yield ConcurrentUploads(
            size, clients, lambda c: c.http.post(bench.deposits_path, content=content, headers=headers)
        )
    finally:
        for client in clients:
            client.close()


def rss_under_concurrency(bench: Bench) -> list[Figure]:
    with concurrent_uploads(bench) as uploads:
        for client in uploads.clients:  # warm-up: every connection open, every code path run once
            uploads.post(client).raise_for_status()
        with (
            RssSampler(bench.reference.pid, interval=0.005) as sampler,
            ThreadPoolExecutor(CONCURRENT_DEPOSITS) as pool,
        ):
            statuses = list(pool.map(uploads.post, uploads.clients))
            figures = sampler.stop()
    size = uploads.size
    assert figures is not None
    assert all(r.status_code == 202 for r in statuses), [r.status_code for r in statuses]
    in_flight = CONCURRENT_DEPOSITS * size
    return [
        Figure(
            f"(4) croissance RSS, {CONCURRENT_DEPOSITS} dépôts de {size / MB:.0f} Mo simultanés "
            f"(pic {figures.peak_bytes / MIB:.0f} Mio)",
            figures.growth_bytes / MIB, "Mio", "octets en vol", in_flight / MIB, "≤ 64 Mio",
            figures.growth_bytes <= 64 * MIB,
        )
    ]  # fmt: skip


# -- 5. return delay at a fixed rate ---------------------------------------------------------------------


def return_delays(bench: Bench, rounds: int) -> list[Figure]:
    baseline = median_of(rounds * CHEAP_ROUNDS_FACTOR, lambda: round_trip(bench))
    accepted: list[tuple[str, float]] = []
    lock = threading.Lock()

    def deposit(index: int) -> None:
        response = bench.client.deposit(META | {"identifiantDossier": f"BANC-{index}"}, [Document("p.pdf", PDF)])
        at = time.time()
        response.raise_for_status()
        with lock:
            accepted.append((response.json()["idDepot"], at))

    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        for index in range(RETURN_DEPOSITS):
            time.sleep(max(0.0, start + index / RETURN_RATE_PER_SECOND - time.monotonic()))
            pool.submit(deposit, index)
    delays = sorted(_delay(bench, id_depot, at) for id_depot, at in accepted)
    p50, p95 = statistics.median(delays), delays[min(len(delays) - 1, int(0.95 * len(delays)))]
    rate = f"{RETURN_DEPOSITS} petits dépôts à {RETURN_RATE_PER_SECOND:g}/s"
    base = "aller-retour minimal"
    return [
        Figure(f"(5) délai de retour p50, {rate}", p50 * 1000, "ms", base, baseline * 1000, "—", None),
        Figure(f"(5) délai de retour p95, {rate}", p95 * 1000, "ms", base, baseline * 1000, "≤ 1 s", p95 <= 1.0),
    ]  # fmt: skip


def _delay(bench: Bench, id_depot: str, accepted_at: float) -> float:
    calls = bench.inspector.wait_for_return(id_depot, timeout=60)
    first = next(c for c in calls if c.get("idAcquittement"))
    return max(0.0, datetime.fromisoformat(first["recuLe"]).timestamp() - accepted_at)


# -- 6. responsiveness under concurrent uploads ------------------------------------------------------------


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def health_times(client: AspClient, until: Callable[[list[float]], bool]) -> list[float]:
    """Durations of `GET /v1/sante`, one after the other on one kept-alive connection, until `until(samples)`."""
    samples: list[float] = []
    while not until(samples):
        elapsed, response = timed(client.health)
        response.raise_for_status()
        samples.append(elapsed)
    return samples


def responsiveness(bench: Bench) -> list[Figure]:
    with concurrent_uploads(bench) as uploads:
        bench.client.health().raise_for_status()  # warm-up: connection and token
        idle = health_times(bench.client, lambda samples: len(samples) >= IDLE_HEALTH_SAMPLES)
        with ThreadPoolExecutor(CONCURRENT_DEPOSITS) as pool:
            sent = [pool.submit(uploads.post, c) for c in uploads.clients]
            busy = health_times(bench.client, lambda _samples: all(u.done() for u in sent))
            statuses = [u.result().status_code for u in sent]
    size = uploads.size
    assert all(status == 202 for status in statuses), statuses
    return [
        Figure(
            f"(6) p99 de GET /v1/sante pendant {CONCURRENT_DEPOSITS} dépôts de {size / MB:.0f} Mo "
            f"({len(busy)} appels)",
            p99(busy) * 1000, "ms", f"même p99 au repos ({len(idle)} appels)", p99(idle) * 1000, "ratio ≤ 3",
            p99(busy) <= 3 * p99(idle),
        )
    ]  # fmt: skip


# -- the table ------------------------------------------------------------------------------------------


def untrustworthy(figures: list[Figure]) -> list[str]:
    """A warning for each repeated figure whose spread is too wide to trust this run's median."""
    return [
        f"[red]⚠ peu fiable, IQR {spread.relative_iqr:.0%} de la médiane (> {UNTRUSTWORTHY_IQR:.0%}) : {f.measure}[/]"
        for f in figures
        if (spread := f.spread) is not None and spread.relative_iqr > UNTRUSTWORTHY_IQR
    ]


def print_table(figures: list[Figure], notes: list[str], console: Console) -> None:
    table = Table(
        title="Banc d'essai de la référence à la limite de 20 Mo — ratio = valeur ÷ base de la même exécution"
    )
    columns = ("Mesure", "Valeur (médiane)", "Dispersion : min-max ; IQR", "Base (même exécution)", "Ratio", "Cible")
    for column in (*columns, "Atteinte"):
        table.add_column(column, overflow="fold")
    for f in figures:
        met = {True: "[green]oui[/]", False: "[red]non[/]", None: "—"}[f.met]
        value, base = f"{f.value:.2f} {f.unit}", f"{f.baseline_name} : {f.baseline:.2f} {f.unit}"
        spread = f.spread.text() if f.spread else "—"
        ratio = f"{f.ratio:.2f}" if f.baseline else "—"  # nothing to divide by (the floor's page faults: 0)
        table.add_row(f.measure, value, spread, base, ratio, f.target, met)
    console.print(table)
    for note in notes:
        console.print(f"• {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="répétitions de chaque mesure (médiane)")
    parser.add_argument("--json", type=Path, help="écrire aussi les chiffres dans ce fichier")
    parser.add_argument("--mesures", default="1,2,3,4,5,6", help="les mesures à faire, par numéro (1,6…)")
    args = parser.parse_args()
    chosen = {int(number) for number in args.mesures.split(",")}
    console = Console()
    console = console if console.is_terminal else Console(width=132)
    with (
        tempfile.TemporaryDirectory(prefix="banc-limite-") as directory,
        Bench(Path(directory)) as bench,
        console.status("Banc d'essai en cours…"),
    ):
        load = {"debut": os.getloadavg()}
        figures: list[Figure] = []
        notes: list[str] = []
        for number, measure in ((1, full_stack_versus_floor), (2, declared_refusals)):
            if number in chosen:
                more_figures, more_notes = measure(bench, args.rounds)
                figures, notes = figures + more_figures, notes + more_notes
        figures += chunked_bytes_read(bench) if 3 in chosen else []
        figures += rss_under_concurrency(bench) if 4 in chosen else []
        figures += return_delays(bench, args.rounds) if 5 in chosen else []
        figures += responsiveness(bench) if 6 in chosen else []
        load["fin"] = os.getloadavg()
    notes.append(
        "charge de la machine (uptime, 1/5/15 min) : "
        + " → ".join(" ".join(f"{x:.2f}" for x in v) for v in load.values())
    )
    print_table(figures, notes + untrustworthy(figures), console)
    if args.json:
        document = {"charge": load, "figures": [f.to_json() for f in figures]}
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
