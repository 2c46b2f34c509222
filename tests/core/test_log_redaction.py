"""Credentials never reach the logs: httpx's request lines stay off, and one filter on every handler masks
secret query values, bearer tokens and credential headers in whatever any logger writes."""

import copy
import io
import json
import logging
import logging.config

import pytest

from apps.core.http import FetchError, http_fetch

SECRET = "AIzaSyD-very-secret-key-123"


@pytest.fixture
def project_log(settings):
    """A logger wired to the project's own handlers, filters and formatter; returns (logger, read_lines)."""
    config = copy.deepcopy(settings.LOGGING)
    output = io.StringIO()
    for handler in config["handlers"].values():
        handler["stream"] = output
    name = "tests.redaction"
    config["loggers"] = {name: {"handlers": list(config["handlers"]), "level": "DEBUG", "propagate": False}}
    config.pop("root", None)
    logging.config.dictConfig(config)
    logger = logging.getLogger(name)

    def lines():
        return [json.loads(line) for line in output.getvalue().splitlines()]

    yield logger, lines
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def test_every_handler_passes_through_the_redact_filter(settings):
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact" in handler.get("filters", []), name


def test_httpx_request_lines_do_not_log_the_query_key(httpserver, caplog):
    caplog.set_level(logging.INFO)
    httpserver.expect_request("/videos").respond_with_data("{}")
    http_fetch(httpserver.url_for("/videos"), params={"key": SECRET, "part": "snippet"})
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("GET %s failed", ("https://www.googleapis.com/youtube/v3/videos?part=snippet&key=" + SECRET,)),
        ("HTTP Request: GET https://api.example/x?access_token=%s&page=2", (SECRET,)),
        ("sent headers {'Authorization': 'Bearer %s'}", (SECRET,)),
        ("retrying with Authorization: Bearer %s", (SECRET,)),
        ("client_secret=%s&grant_type=client_credentials", (SECRET,)),
        ("Cookie: sessionid=%s", (SECRET,)),
    ],
)
def test_any_log_line_has_credentials_masked(project_log, message, args):
    logger, lines = project_log
    logger.warning(message, *args)
    (entry,) = lines()
    assert SECRET not in entry["message"]
    assert "********" in entry["message"]


def test_tracebacks_have_credentials_masked(project_log, httpserver):
    logger, lines = project_log
    httpserver.expect_request("/videos").respond_with_data("", status=500)
    try:
        http_fetch(httpserver.url_for("/videos"), params={"key": SECRET})
    except FetchError:
        logger.exception("collect failed")
    (entry,) = lines()
    assert "FetchError" in entry["exc_info"]
    assert SECRET not in entry["exc_info"]


def test_ordinary_text_is_left_alone(project_log):
    logger, lines = project_log
    logger.info("monkey=3 donkey=4 page=2 keyboard token count 17")
    assert lines()[0]["message"] == "monkey=3 donkey=4 page=2 keyboard token count 17"
