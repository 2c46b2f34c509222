"""gunicorn's access log as JSON lines carrying the request id of Django's log lines; static files left out."""

from __future__ import annotations

import json
import traceback
from datetime import UTC, datetime

from gunicorn.glogging import Logger

# Served by whitenoise on every page view: logging them would bury the requests worth reading.
QUIET_PREFIXES = ("/static/", "/favicon.ico")


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time) -> None:
        path = environ.get("PATH_INFO", "")
        if not self.access_log_enabled or path.startswith(QUIET_PREFIXES):
            return
        atoms = self.atoms(resp, req, environ, request_time)
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": atoms["r"],
            # RequestIdMiddleware puts the id on every response Django sends, early ones included.
            "request_id": atoms.get("{x-request-id}o", "-"),
            "method": atoms["m"],
            "path": path,
            "query": atoms["q"] or "",
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(atoms["D"] / 1000, 2),
            "remote_addr": atoms["h"],
            "user_agent": atoms["a"],
            "referer": atoms["f"],
        }
        try:
            self.access_log.info(json.dumps(entry, default=str))
        except Exception:  # noqa: BLE001 - gunicorn's own rule: a log line never breaks a response
            self.error(traceback.format_exc())
