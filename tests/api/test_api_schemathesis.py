"""Property-based run of the OpenAPI schema (schemathesis): no request makes the service fail.

The schema is loaded inside the test (``from_asgi`` on an app built from the
session's small territory) and each operation's cases are drawn from
``operation.as_strategy()``: ``schemathesis.pytest.from_fixture`` does not
work with pytest 9 (it reads the removed ``Function._nodeid``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from api.settings import Settings


def _tested(ctx) -> bool:
    """GET endpoints (scenario results need a run: tested elsewhere), the match query, assembly."""
    op = ctx.operation
    if op.method.upper() == "GET":
        return "{scenario_id}" not in op.path
    return op.method.upper() == "POST" and op.path in ("/match/query", "/assemble")


@pytest.mark.slow
def test_no_server_error(api_territory: Path, tmp_path: Path) -> None:
    app = create_app(Settings(territory=api_territory, state_dir=tmp_path / "state"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(func=_tested)
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert paths >= {"/layers/{name}", "/match/query", "/land-units", "/assemble"}
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            response = case.call()
            statuses.append(response.status_code)
            assert response.status_code < 500, (
                case.method,
                case.path,
                case.path_parameters,
                case.query,
                case.body,
                response.text[:500],
            )

        check()
    assert len(statuses) >= 2 * len(operations)
    assert 200 in statuses and 422 in statuses
