"""A property-based fuzz of the whole REST API from its own OpenAPI document (schemathesis,
on hypothesis): every operation gets generated requests, valid ones and invalid ones, against
a real `livegrad serve`; none may get a 5xx, and every response must be as documented (status
code, content type, body schema). Bounded: EXAMPLES per operation and kind, derandomized so
that CI sends the same requests each time.

May import: stdlib, pytest, hypothesis, schemathesis, tests.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

EXAMPLES = 25
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


def operations(url: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_no_server_error_and_every_response_as_documented(live_server: str,
                                                          mode: GenerationMode) -> None:
    failures: list[str] = []
    for op in operations(live_server):
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            case.call_and_validate(base_url=live_server, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # every operation is tried; all failures are reported
            failures.append(f"{op.label}: {str(exc)[:2000]}")
    assert not failures, "\n\n".join(failures)
