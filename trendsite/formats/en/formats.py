"""Dates as operators compare them: sortable, compact, 24-hour ("2026-11-23 11:37"), so changelists with
several time columns fit at 1,400 px."""

DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
