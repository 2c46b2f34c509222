"""Console transport for development: one readable block on the process's stdout (the worker's terminal)."""

from __future__ import annotations

import sys

from apps.alerts.transports.base import AlertMessage, Transport


class ConsoleTransport(Transport):
    kind = "console"
    title = "Console (development)"
    example = "{}"

    def send(self, message: AlertMessage) -> None:
        lines = [f"[{message.severity.upper()}] {message.title}  ({message.event_kind}, channel {self.channel.name})"]
        if message.text:
            lines.append(f"  {message.text}")
        lines += [f"  {name}: {value}" for name, value in message.fields]
        if message.link:
            lines.append(f"  {message.link}")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
