"""The `notifications:` block of district.yaml: where failed runs and failed checks are sent.

Optional and off unless written: the sample district has none. Secrets are `${ENV_VAR}`
references, expanded only when a message is sent, and never logged.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ENV_ONLY = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailChannel(_Model):
    """Email over SMTP."""

    host: str = Field(..., description="SMTP server, e.g. smtp.district.example")
    port: int = Field(587, gt=0, lt=65536, description="SMTP port")
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (port 587), ssl (port 465), none (loopback relays only)"
    )
    username: str | None = Field(None, description="SMTP user, e.g. ${HUB_SMTP_USER}")
    password: str | None = Field(None, description="only as a reference: ${HUB_SMTP_PASSWORD}")
    sender: str = Field(..., description="From: address")
    to: list[str] = Field(..., min_length=1, description="operators' addresses")
    timeout_s: float = Field(20, gt=0, description="connection timeout in seconds")

    @field_validator("password")
    @classmethod
    def _password_is_a_reference(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_ONLY.match(v):
            raise ValueError("write the password as a ${ENV_VAR} reference, never in the file")
        return v


class WebhookChannel(_Model):
    """An HTTP POST of a JSON message (Slack, Teams, Mattermost, or any service)."""

    url: str = Field(..., description="https://… or ${HUB_WEBHOOK_URL} (it may hold a token)")
    headers: dict[str, str] = Field(
        {}, description='extra headers, e.g. {Authorization: "Bearer ${HUB_WEBHOOK_TOKEN}"}'
    )
    timeout_s: float = Field(10, gt=0, description="request timeout in seconds")


class Notifications(_Model):
    """Where the hub tells operators that a run or a check failed."""

    enabled: bool = Field(True, description="false keeps the block but sends nothing")
    on: list[Literal["run_failure", "check_failure"]] = Field(
        ["run_failure", "check_failure"], description="which events are sent"
    )
    ui_url: str = Field(
        "http://127.0.0.1:3000", description="the Dagster UI, for links in the messages"
    )
    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None
