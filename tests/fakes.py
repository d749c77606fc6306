"""Stand-ins for what the tests don't have: systemd's notify socket."""

from __future__ import annotations


class RecordingNotifier:
    """Stands in for systemd's notify socket: records READY/STATUS/WATCHDOG/RELOADING/STOPPING."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def ready(self) -> None:
        self.messages.append("READY=1")

    def status(self, text: str) -> None:
        self.messages.append("STATUS=" + text)

    def pet(self) -> None:
        self.messages.append("WATCHDOG=1")

    def stopping(self) -> None:
        self.messages.append("STOPPING=1")

    def reloading(self) -> None:
        self.messages.append("RELOADING=1")

    def count(self, message: str) -> int:
        return self.messages.count(message)
