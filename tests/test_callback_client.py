"""The titulaire's callback client: its retry logic, against a mocked ASP (respx)."""

from __future__ import annotations

import ssl

import httpx
import pytest
import respx

from harness.conformance.returns import max_return_delay
from harness.foundations.tokens import ClientCredentials, ClientCredentialsAuth
from harness.reference.callback_client import CallbackClient, DeliveryFailed
from harness.reference.settings import RetryPolicy

pytestmark = pytest.mark.anyio

URL = "https://asp.test/v1/retours"
RETOUR = {"idRetour": "r", "idDepot": "d"}
ACK = {"idAcquittement": "a1", "idRetour": "r", "recuLe": "2026-11-28T12:00:00Z"}


class RecordedSleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


def client(sleeps: RecordedSleeps, attempts: int = 4) -> CallbackClient:
    return CallbackClient(
        URL, RetryPolicy(attempts=attempts, first_delay_seconds=0.1, max_delay_seconds=0.3), sleep=sleeps
    )


def problem(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code}, headers={"content-type": "application/problem+json"})


@respx.mock
async def test_retries_server_errors_then_delivers(sleeps: RecordedSleeps) -> None:
    route = respx.post(URL).mock(
        side_effect=[
            problem(500, "erreur-interne"),
            problem(503, "service-indisponible"),
            httpx.Response(202, json=ACK),
        ]
    )
    delivery = await client(sleeps).deliver(RETOUR)
    assert delivery.ack_id == "a1"
    assert delivery.attempts == 3
    assert route.call_count == 3
    assert sleeps == [0.1, 0.2]
    assert route.calls[0].request.content == route.calls[2].request.content  # the same return each time


@respx.mock
async def test_retries_transport_errors(sleeps: RecordedSleeps) -> None:
    respx.post(URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(202, json=ACK)]
    )
    assert (await client(sleeps).deliver(RETOUR)).attempts == 3


@respx.mock
async def test_gives_up_after_the_budget_with_bounded_backoff(sleeps: RecordedSleeps) -> None:
    route = respx.post(URL).mock(return_value=problem(503, "service-indisponible"))
    with pytest.raises(DeliveryFailed) as failure:
        await client(sleeps, attempts=4).deliver(RETOUR)
    assert failure.value.attempts == 4
    assert route.call_count == 4
    assert sleeps == [0.1, 0.2, 0.3]  # capped at max_delay_seconds
    assert "503" in failure.value.reason
    assert "service-indisponible" in failure.value.reason


@respx.mock
async def test_does_not_retry_a_refused_return(sleeps: RecordedSleeps) -> None:
    route = respx.post(URL).mock(return_value=problem(422, "retour-invalide"))
    with pytest.raises(DeliveryFailed) as failure:
        await client(sleeps).deliver(RETOUR)
    assert route.call_count == 1
    assert failure.value.attempts == 1
    assert "non réessayable" in failure.value.reason


@respx.mock
async def test_an_unreadable_acknowledgement_is_a_failure(sleeps: RecordedSleeps) -> None:
    respx.post(URL).mock(return_value=httpx.Response(202, text="ok"))
    with pytest.raises(DeliveryFailed, match="acquittement illisible"):
        await client(sleeps).deliver(RETOUR)


@respx.mock
async def test_a_token_the_issuer_refuses_is_retried_then_reported(sleeps: RecordedSleeps) -> None:
    token_url = "https://idp.test/token"
    respx.post(token_url).mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
    returns = respx.post(URL).mock(return_value=httpx.Response(202, json=ACK))
    credentials = ClientCredentials(token_url, "titulaire", "secret-du-titulaire")
    auth = ClientCredentialsAuth(credentials, ssl.create_default_context())
    callback = CallbackClient(URL, RetryPolicy(attempts=2, first_delay_seconds=0.1), auth=auth, sleep=sleeps)

    with pytest.raises(DeliveryFailed) as raised:
        await callback.deliver(RETOUR)

    assert raised.value.attempts == 2
    assert raised.value.reason.startswith("tentative 2 : jeton d'accès non obtenu (")
    assert "invalid_client" in raised.value.reason
    assert "secret-du-titulaire" not in raised.value.reason
    assert returns.call_count == 0


class FakeTime:
    """A monotonic clock that the recorded sleeps advance."""

    def __init__(self, sleeps: RecordedSleeps) -> None:
        self.sleeps = sleeps

    def __call__(self) -> float:
        return sum(self.sleeps)


@respx.mock
async def test_retry_after_is_honoured(sleeps: RecordedSleeps) -> None:
    unavailable = httpx.Response(503, json={"code": "service-indisponible"}, headers={"Retry-After": "7"})
    respx.post(URL).mock(side_effect=[unavailable, httpx.Response(202, json=ACK)])
    assert (await client(sleeps).deliver(RETOUR)).attempts == 2
    assert sleeps == [7.0]


@respx.mock
async def test_the_budget_is_in_time_not_in_attempts(sleeps: RecordedSleeps) -> None:
    route = respx.post(URL).mock(return_value=problem(503, "service-indisponible"))
    policy = RetryPolicy(budget_seconds=10.0, first_delay_seconds=1.0, max_delay_seconds=4.0)
    callback = CallbackClient(URL, policy, sleep=sleeps, monotonic=FakeTime(sleeps))
    with pytest.raises(DeliveryFailed) as failure:
        await callback.deliver(RETOUR)
    assert sleeps == [1.0, 2.0, 4.0]  # a fourth wait of 4 s would start an attempt after the 10 s budget
    assert route.call_count == failure.value.attempts == 4


def test_the_reference_gives_up_a_return_within_the_service_contract_s_deadline() -> None:
    """Its default retries end (ECHEC, incident) before `delaiMaxRetour`: the ASP hears of every deposit in time."""
    assert RetryPolicy().lease_seconds() < max_return_delay().total_seconds()
