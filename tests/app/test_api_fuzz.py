"""schemathesis against the app's own ``/openapi.json``, with a token for each role: no
response is a 5xx, and every response matches the schema documented for its status code.

Bounded (``MAX_EXAMPLES`` per operation, each sent as every role) so CI stays short; run
more by hand with ``LUNGSIGN_FUZZ_EXAMPLES=200 make test-sqlite PYTEST_ARGS="-k fuzz"``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import checks
from starlette.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.factories import api_token, make_user
from tests.study_factories import with_data

MAX_EXAMPLES = int(os.environ.get("LUNGSIGN_FUZZ_EXAMPLES", "6"))
ROLES = ("reader", "coordinator", "admin")
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance]


@pytest.fixture
def tokens(db: Database) -> dict[str, dict[str, str]]:
    with_data(db)  # datasets to refer to
    return {role: api_token(db, make_user(db, role, f"fuzz-{role}")) for role in ROLES}


def test_no_5xx_and_responses_match_their_schema(
    settings: Settings, db: Database, tokens: dict[str, dict[str, str]]
) -> None:
    app = create_app(settings, db)
    failures: list[str] = []
    with TestClient(app):  # the app's startup, once
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=tokens["admin"])
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30  # the whole API
        for operation in operations:
            _exercise(operation, tokens, failures)
    assert not failures, "\n\n".join(failures[:10])


def _exercise(operation: Any, tokens: dict[str, dict[str, str]], failures: list[str]) -> None:
    """MAX_EXAMPLES generated requests to OPERATION, each sent anonymously and as each role."""

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same examples every run: a red CI is reproducible
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        for role in ("anonymous", *ROLES):
            headers = {**(case.headers or {}), **tokens.get(role, {})}
            if role == "anonymous":
                headers.pop("Authorization", None)
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:  # schemathesis' failures: one, or a group of them
                failures.append(f"{operation.label} as {role}: {exc}"[:2000])

    run()
