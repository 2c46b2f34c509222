"""The shared evaluation data is found beside the repository, and its absence is a skip that says where."""

import pytest

from tests.shared_data import REPOSITORY, SHARED_DATA, shared_file


def test_shared_data_is_looked_for_beside_the_repository_not_at_a_fixed_path(monkeypatch):
    import importlib

    import tests.shared_data as module

    monkeypatch.delenv("TRENDSITE_SHARED_DATA", raising=False)
    assert REPOSITORY.parent / "shared" / "data" == importlib.reload(module).SHARED_DATA
    monkeypatch.setenv("TRENDSITE_SHARED_DATA", "/elsewhere/data")
    assert str(importlib.reload(module).SHARED_DATA) == "/elsewhere/data"
    monkeypatch.delenv("TRENDSITE_SHARED_DATA")
    importlib.reload(module)


def test_an_absent_file_skips_with_the_path_it_looked_at():
    with pytest.raises(pytest.skip.Exception, match=str(SHARED_DATA / "no-such-file.csv")):
        shared_file("no-such-file.csv")
