"""The answers the proxy gives itself instead of forwarding: problem+json, as every server of the harness."""

from __future__ import annotations

from mitmproxy import http

from harness.foundations.problems import Problem


def answer(flow: http.HTTPFlow, problem: Problem) -> None:
    """Answer `flow` with `problem` without forwarding it (its body, if any, read by mitmproxy, not streamed)."""
    response = problem.response(flow.request.path.split("?", 1)[0])
    flow.request.stream = False
    headers = {name.decode(): value.decode() for name, value in response.raw_headers}
    flow.response = http.Response.make(problem.status, bytes(response.body), headers)
