import pytest


@pytest.fixture
def metrics_text(client, settings):
    """A function returning the current /metrics page (state figures read fresh), fetched with the bearer token."""
    settings.METRICS_TOKEN = "scrape-token"
    settings.METRICS_STATE_CACHE_SECONDS = 0

    def read() -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token")
        assert response.status_code == 200, response.content[:300]
        return response.content.decode()

    return read
