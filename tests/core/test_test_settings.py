from django.conf import settings


def test_suite_runs_on_test_settings():
    assert settings.SETTINGS_MODULE == "trendsite.settings.test"
    assert "127.0.0.0/8" in settings.TRENDSITE_OUTBOUND_ALLOW
