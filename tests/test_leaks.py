"""What an error answer must never show (`harness/foundations/leaks.py`), judged on the text a JSON body carries."""

from __future__ import annotations

import json

from harness.foundations.leaks import answer_leaks


def problem(detail: str) -> str:
    return json.dumps({"type": "about:blank", "status": 400, "code": "parametre-invalide", "detail": detail})


def kinds(body: str, status: int = 400) -> list[str]:
    return [finding.kind for finding in answer_leaks(status, {}, body)]


def test_an_echo_of_the_request_is_not_a_leak_even_escaped_and_cut() -> None:
    sent = 'POST /v1/depots\nidempotency-key: zp7.alVBvA46XK"m:I:"6 j}$h(n-8'
    # the answer shows the value as JSON text, cut after 20 characters: « "zp7.alVBvA46XK\"m:I:\… »
    echoed = problem('« "zp7.alVBvA46XK\\"m:I:\\… » est trop long (au plus 128 caractère(s))')
    elsewhere = problem(r"échec de lecture de C:\inetpub\recette\depots\x.pdf")

    assert kinds(echoed) == ["chemin de fichier"], "alone, the cut escape looks like a drive letter"
    assert [f.kind for f in answer_leaks(400, {}, echoed, sent)] == []
    assert [f.kind for f in answer_leaks(400, {}, elsewhere, sent)] == ["chemin de fichier"]


def test_a_path_or_a_trace_in_a_json_detail_is_found_once_decoded() -> None:
    windows = problem(r"échec de lecture de C:\inetpub\recette\depots\x.pdf")
    trace = problem('Traceback (most recent call last):\n  File "/app/titulaire/depots.py", line 42, in deposer')

    assert kinds(windows) == ["chemin de fichier"]
    assert set(kinds(trace)) >= {"trace d'exécution Python", "trace d'exécution", "chemin de fichier"}
    assert kinds(trace, status=200) == [], "a success body is not an error answer"


def test_a_body_that_is_not_json_is_searched_as_it_is() -> None:
    assert kinds("<html>Traceback (most recent call last)</html>", status=500) == ["trace d'exécution Python"]
