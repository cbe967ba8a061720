"""Send a notice (a failed run, failed checks) to the channels of `notifications:`.

Plain Python, no Dagster: the sensors of `hub.notify_sensors` build the notices. Secrets
(`${ENV_VAR}` references) are expanded only here, at send time, and scrubbed from every error
message, so that they reach neither logs nor Dagster events.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage

from hub.config import ConfigError, expand_env
from hub.notify_config import EmailChannel, Notifications, WebhookChannel

MASK = "•••"


@dataclass
class Notice:
    """One message: a subject line, a plain-text body, and the same facts as data."""

    kind: str  # run_failure, check_failure
    subject: str
    text: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    message: str


def wanted(config: Notifications | None, kind: str) -> bool:
    return bool(config and config.enabled and kind in config.on)


def send(config: Notifications, notice: Notice) -> list[Delivery]:
    """Send the notice on every configured channel; one channel's failure does not stop others."""
    out = []
    if config.email:
        out.append(_deliver("email", send_email, config.email, notice))
    if config.webhook:
        out.append(_deliver("webhook", send_webhook, config.webhook, notice))
    return out


def _deliver(name, fn, channel, notice: Notice) -> Delivery:  # noqa: ANN001
    secrets = _secrets(channel)
    try:
        where = fn(channel, notice)
    except ConfigError as exc:  # an unset variable: its name is safe to show, never a value
        return Delivery(name, False, f"{name}: {exc}")
    except Exception as exc:
        return Delivery(name, False, _scrub(f"{name}: {type(exc).__name__}: {exc}", secrets))
    return Delivery(name, True, f"{name}: sent to {where}")


def send_email(channel: EmailChannel, notice: Notice) -> str:
    """Send by SMTP; returns where it went (no secret in it)."""
    msg = EmailMessage()
    msg["Subject"] = notice.subject
    msg["From"] = expand_env(channel.sender)
    msg["To"] = ", ".join(expand_env(t) for t in channel.to)
    msg.set_content(notice.text)
    host, port = expand_env(channel.host), channel.port
    if channel.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=channel.timeout_s, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=channel.timeout_s)
    with smtp:
        if channel.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if channel.username and channel.password:
            smtp.login(expand_env(channel.username), expand_env(channel.password))
        smtp.send_message(msg)
    return f"{msg['To']} via {host}:{port}"


def send_webhook(channel: WebhookChannel, notice: Notice) -> str:
    """POST the notice as JSON (`text` for chat services, plus the facts); returns the host."""
    url = expand_env(channel.url)
    body = json.dumps(
        {"text": f"{notice.subject}\n{notice.text}", "subject": notice.subject,
         "kind": notice.kind, **notice.data},
        ensure_ascii=False, default=str,
    ).encode("utf-8")  # fmt: skip
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers |= {k: expand_env(v) for k, v in channel.headers.items()}
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    host = urllib.parse.urlsplit(url).netloc.rsplit("@", 1)[-1]
    try:
        with urllib.request.urlopen(req, timeout=channel.timeout_s) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{host} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise RuntimeError(f"{host} unreachable: {exc.reason}") from None
    return f"{host} (HTTP {status})"


def _secrets(channel: EmailChannel | WebhookChannel) -> list[str]:
    """Expanded values that must never be shown: passwords, users, webhook URLs and headers."""
    refs: list[str] = []
    if isinstance(channel, EmailChannel):
        refs += [v for v in (channel.username, channel.password) if v]
    else:
        refs += [channel.url, *channel.headers.values()]
    out = []
    for r in refs:
        try:
            value = expand_env(r)
        except ConfigError:
            continue
        if value != r or isinstance(channel, WebhookChannel):
            out.append(value)
    return [s for s in out if s]


def _scrub(text: str, secrets: list[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, MASK)
    return text
