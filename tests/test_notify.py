"""Notifications of failed runs and checks: a real SMTP server and a real HTTP server on loopback.

The SMTP server is aiosmtpd (with AUTH), the webhook an http.server; both started by the tests.
Secrets are `${ENV}` references: the servers see them, error messages never do.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
import yaml
from pydantic import ValidationError

from hub.config import load_district
from hub.notify import Notice, send
from hub.notify_config import EmailChannel, Notifications, WebhookChannel
from hub.notify_sensors import notify_failed_checks, notify_run_failure

SECRET = "s3cr3t-Pa55"
TOKEN = "tok-0123456789"
NOTICE = Notice("check_failure", "[district hub] 2 failed checks", "moda-carpi: 4 of 196 rows")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[dict]:
    """aiosmtpd on loopback, AUTH LOGIN/PLAIN allowed without TLS (loopback only)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    got: dict = {"messages": [], "logins": []}

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
            got["messages"].append(envelope)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        user, password = auth_data.login.decode(), auth_data.password.decode()
        got["logins"].append(user)
        return AuthResult(success=user == "hub" and password == SECRET, handled=False)

    port = _free_port()
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
        auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:
        yield {"port": port, **got}
    finally:
        controller.stop()


@contextmanager
def webhook_server(status: int = 200) -> Iterator[dict]:
    got: dict = {"requests": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got["requests"].append({"headers": dict(self.headers), "json": json.loads(body)})
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}/hooks/hub", **got}
    finally:
        server.shutdown()
        server.server_close()


def _email(port: int, **kw) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1", port=port, security="none", username="hub",
        password="${HUB_SMTP_PASSWORD}", sender="hub@district.example",
        to=["operatori@district.example"], **kw,
    )  # fmt: skip


def test_email_is_sent_over_smtp_with_the_password_from_the_environment(smtp_server, monkeypatch):
    monkeypatch.setenv("HUB_SMTP_PASSWORD", SECRET)
    [d] = send(Notifications(email=_email(smtp_server["port"])), NOTICE)
    assert d.ok, d.message
    [msg] = smtp_server["messages"]
    assert msg.rcpt_tos == ["operatori@district.example"]
    text = msg.content.decode()
    assert "Subject: [district hub] 2 failed checks" in text
    assert "moda-carpi: 4 of 196 rows" in text
    assert SECRET not in d.message


def test_a_refused_login_is_reported_without_the_password(smtp_server, monkeypatch):
    monkeypatch.setenv("HUB_SMTP_PASSWORD", SECRET + "-wrong")
    [d] = send(Notifications(email=_email(smtp_server["port"])), NOTICE)
    assert not d.ok
    assert "SMTPAuthenticationError" in d.message
    assert SECRET not in d.message
    assert not smtp_server["messages"]


def test_an_unset_secret_names_the_variable_not_a_value(smtp_server, monkeypatch):
    monkeypatch.delenv("HUB_SMTP_PASSWORD", raising=False)
    [d] = send(Notifications(email=_email(smtp_server["port"])), NOTICE)
    assert not d.ok and "HUB_SMTP_PASSWORD is not set" in d.message


def test_a_password_written_in_the_file_is_refused():
    with pytest.raises(ValidationError, match="ENV_VAR"):
        EmailChannel(host="h", sender="a@b", to=["c@d"], password="plain-text")


def test_webhook_posts_json_with_the_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("HUB_WEBHOOK_TOKEN", TOKEN)
    with webhook_server() as hook:
        channel = WebhookChannel(
            url=hook["url"], headers={"Authorization": "Bearer ${HUB_WEBHOOK_TOKEN}"}
        )
        [d] = send(Notifications(webhook=channel), NOTICE)
    assert d.ok, d.message
    [req] = hook["requests"]
    assert req["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert req["json"]["kind"] == "check_failure"
    assert "moda-carpi: 4 of 196 rows" in req["json"]["text"]
    assert TOKEN not in d.message


def test_a_webhook_error_is_reported_without_the_secret_url(monkeypatch):
    with webhook_server(status=500) as hook:
        monkeypatch.setenv("HUB_WEBHOOK_URL", hook["url"] + "?token=" + TOKEN)
        [d] = send(Notifications(webhook=WebhookChannel(url="${HUB_WEBHOOK_URL}")), NOTICE)
    assert not d.ok
    assert "HTTP 500" in d.message
    assert TOKEN not in d.message


def test_notifications_are_off_in_the_sample_district():
    from tests.conftest import ROOT

    assert load_district(ROOT / "district.yaml").notifications is None


@pytest.mark.integration
def test_sensors_send_failed_checks_and_failed_runs(make_district, monkeypatch):
    district = make_district()
    with webhook_server() as hook:
        monkeypatch.setenv("HUB_WEBHOOK_URL", hook["url"])
        path = district.root / "district.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["notifications"] = {
            "ui_url": "http://ui.example",
            "on": ["check_failure", "run_failure"],
            "webhook": {"url": "${HUB_WEBHOOK_URL}"},
        }
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        result = district.sync(["lavanderia-novese"])
        assert "staged/orders:rows_valid" in result.failed_checks

        ctx = dg.build_sensor_context(instance=district.instance, resources={"hub": district.hub})
        notify_failed_checks(ctx)
        [req] = hook["requests"]
        body = req["json"]
        assert body["kind"] == "check_failure" and body["firms"] == "lavanderia-novese"
        check = next(c for c in body["checks"] if c["asset"] == "staged/orders")
        assert check["check"] == "rows_valid"
        assert "lavanderia-novese 1 of" in check["description"]
        assert check["url"].startswith("http://ui.example/assets/staged/orders?view=checks")
        # The cursor moved on: the same evaluations are not sent twice.
        again = dg.build_sensor_context(
            instance=district.instance, cursor=ctx.cursor, resources={"hub": district.hub}
        )
        notify_failed_checks(again)
        assert len(hook["requests"]) == 1

        failed = _failed_run(district.instance)
        run_ctx = dg.build_run_status_sensor_context(
            sensor_name="notify_run_failure", dagster_instance=district.instance,
            dagster_run=failed.dagster_run, dagster_event=failed.get_run_failure_event(),
            resources={"hub": district.hub},
        ).for_run_failure()  # fmt: skip
        notify_run_failure(run_ctx)
    body = hook["requests"][-1]["json"]
    assert body["kind"] == "run_failure"
    assert body["run_id"] == failed.run_id
    assert body["url"] == f"http://ui.example/runs/{failed.run_id}"


def _failed_run(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    @dg.op
    def export_missing() -> None:
        raise RuntimeError("the ERP export is missing")

    @dg.job
    def broken() -> None:
        export_missing()

    return broken.execute_in_process(instance=instance, raise_on_error=False)
