from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def serve(httpserver):
    """Serve a recorded payload (or raw bytes) at a path; returns its URL."""

    def _serve(path: str, payload: str | bytes, *, content_type: str = "", status: int = 200, headers=None) -> str:
        body = payload if isinstance(payload, bytes) else fixture_bytes(payload)
        if not content_type:
            content_type = "application/json" if str(payload).endswith(".json") else "application/rss+xml"
        httpserver.expect_request(path).respond_with_data(
            body, status=status, content_type=content_type, headers=headers or {}
        )
        return httpserver.url_for(path)

    return _serve
