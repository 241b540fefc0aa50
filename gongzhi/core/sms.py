"""Pluggable SMS senders. Production plugs a carrier gateway in via the SMS_SENDER setting."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("gongzhi.sms")


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LogSender:
    """Development sender: writes the message to the server log instead of sending it."""

    def send(self, phone: str, text: str) -> None:
        logger.warning("【短信 SMS】→ %s：%s", phone, text)


class MemorySender:
    """Test sender: keeps messages in memory."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        MemorySender.outbox.append((phone, text))


def get_sender() -> SmsSender:
    sender: SmsSender = import_string(settings.SMS_SENDER)()
    return sender
