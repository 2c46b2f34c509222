"""Email through Django's email API, so any anymail ESP (or SMTP) works by settings alone.

Subject, text and HTML come from ``templates/alerts/<event kind>/{subject.txt,body.txt,body.html}``, falling
back to ``templates/alerts/default/``; the message is multipart/alternative (text first, HTML preferred).
"""

from __future__ import annotations

import smtplib

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string

from apps.alerts.transports.base import AlertMessage, Transport, TransportError
from apps.core.config_spec import ConfigField
from apps.core.switches import ALERTS_EMAIL

MAX_RECIPIENTS = 50
_TO_RULE = 'must be a non-empty list of addresses, e.g. ["ops@example.com"]'


def _recipients_problems(to: object) -> list[str]:
    if not isinstance(to, list) or not to:
        return [_TO_RULE]
    problems = [f"takes at most {MAX_RECIPIENTS} addresses, got {len(to)}"] if len(to) > MAX_RECIPIENTS else []
    for address in to:
        try:
            validate_email(address)
        except (ValidationError, TypeError):
            problems.append(f"has an invalid address {str(address)[:100]!r}")
    return problems


def email_render(message: AlertMessage, *, template_dir: str | None = None) -> tuple[str, str, str]:
    """(subject, text, html) for ``message`` from its event's templates."""
    directory = template_dir or message.event_kind
    context = {"message": message, "fields": message.fields, "data": message.data}

    def render(name: str) -> str:
        return render_to_string([f"alerts/{directory}/{name}", f"alerts/default/{name}"], context)

    subject = " ".join(render("subject.txt").split())[:200]
    return subject, render("body.txt"), render("body.html")


def email_send(*, to: list[str], subject: str, text: str, html: str) -> None:
    """Send one multipart message; TransportError (permanent when the recipients are refused) otherwise."""
    email = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    email.attach_alternative(html, "text/html")
    try:
        email.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, AnymailRecipientsRefused) as exc:
        raise TransportError(f"recipients refused: {exc}"[:500], permanent=True) from None
    except (smtplib.SMTPException, AnymailError, OSError) as exc:
        raise TransportError(f"email not sent: {type(exc).__name__}: {exc}"[:500]) from None


class EmailTransport(Transport):
    kind = "email"
    title = "Email"
    switch = ALERTS_EMAIL
    fields = (ConfigField("to", list, check=_recipients_problems, required_message=_TO_RULE),)
    example = '{"to": ["ops@example.com"]}'

    def send(self, message: AlertMessage) -> None:
        subject, text, html = email_render(message)
        email_send(to=list(self.config["to"]), subject=subject, text=text, html=html)
