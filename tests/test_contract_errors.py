"""The French messages of contract errors (`harness/foundations/contract_errors.py`): what a refusal shows."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from harness.foundations.contract_errors import schema_message


def message(schema: dict[str, object], value: object) -> str:
    (error,) = Draft202012Validator(schema).iter_errors(value)
    return schema_message(error)


def test_a_long_value_is_shown_cut_and_never_in_the_middle_of_an_escape() -> None:
    value = "x" * 77 + "\\ suite"  # its JSON text, cut at 79 characters, would end inside `\\`
    shown = message({"maxLength": 10}, value)

    assert shown.endswith("» est trop long (au plus 10 caractère(s))")
    quoted = shown.removeprefix("« ").split("… »")[0]
    assert len(quoted) < len(json.dumps(value, ensure_ascii=False))
    assert value.startswith(json.loads(quoted + '"')), "the shown text is the value's JSON, cut between characters"


def test_a_short_value_is_shown_whole() -> None:
    assert message({"enum": ["API"]}, "APY") == 'valeur « "APY" » non autorisée ; valeurs permises : API'
