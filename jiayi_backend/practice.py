"""The doctor team's actions, apart from any web framework: each one is checked, sent to the speaker
over MQTT (protocol v1 messages only), and written to the audit trail, whether it worked or not.

- acknowledge: an ``in_progress`` ack of the request on the device's response topic;
- call back at a time, a message from a template, an appointment: a ``say`` command;
- resolve: closes the request on the page (nothing is sent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from assistant.link import protocol as messages
from jiayi_backend import spoken
from jiayi_backend.service import CommandError, ReferenceBackend
from jiayi_backend.store import STATE_ACKNOWLEDGED, STATE_CLOSED, StoredRequest
from jiayi_backend.team import Member, TeamStore

_LOGGER = logging.getLogger(__name__)

SAY_EXPIRY_S: Final = 3600
"""A spoken answer not delivered within an hour is dropped (it would be stale)."""


class ActionError(ValueError):
    """An action that was refused or did not reach the broker; the message is for the page."""

    def __init__(self, message: str, audited: bool = False) -> None:
        super().__init__(message)
        self.audited = audited


@dataclass(frozen=True)
class Done:
    """What the page tells the member afterwards."""

    message: str
    spoken: str = ""


class Practice:
    def __init__(self, backend: ReferenceBackend, doctor_name: str = "your doctor") -> None:
        self.backend = backend
        self.store = backend.store
        self.team = TeamStore(backend.database)
        self.doctor_name = doctor_name

    # ------------------------------------------------------------------ look-ups

    def request(self, request_id: int) -> StoredRequest:
        found = self.store.get(request_id)
        if found is None:
            raise ActionError(f"there is no request {request_id}")
        return found

    def device_lang(self, device_id: str) -> str:
        latest = self.store.for_device(device_id, 1)
        return latest[0].lang if latest else "en"

    def medications(self, device_id: str) -> list[str]:
        """Medicine names this speaker has mentioned (offered in the message form)."""
        names = {str(r.slots.get("medication")) for r in self.store.for_device(device_id, 200)}
        return sorted(n for n in names if n and n != "None")[:20]

    def _doctor(self, req: StoredRequest | None) -> str:
        named = str(req.slots.get("doctor") or "") if req else ""
        try:
            return spoken.checked_name(named, "doctor") if named else self.doctor_name
        except spoken.TemplateError:
            return self.doctor_name

    # ------------------------------------------------------------------ actions

    def acknowledge(self, member: Member, request_id: int) -> Done:
        req = self.request(request_id)
        text = spoken.render(spoken.ACKNOWLEDGE, req.lang, doctor=self._doctor(req))
        ack = messages.Ack(
            device_id=req.device_id, request_id=req.message_id, status=messages.ACK_IN_PROGRESS, text=text
        )
        self._send(
            member,
            "acknowledge",
            req.device_id,
            req.id,
            text,
            ack.message_id,
            lambda: self.backend.send_ack(ack),
        )
        self.store.set_state(req.id, STATE_ACKNOWLEDGED)
        return Done(f"Acknowledged; {req.device_id} will hear it.", text)

    def call_back(self, member: Member, request_id: int, time: str) -> Done:
        req = self.request(request_id)
        text = self._render(spoken.CALL_BACK, req.lang, doctor=self._doctor(req), time=time)
        self._say(member, "call_back", req.device_id, req.id, text, req.lang)
        self.store.set_state(req.id, STATE_ACKNOWLEDGED)
        return Done(f"Call-back promised; {req.device_id} will hear it.", text)

    def send_message(
        self, member: Member, device_id: str, key: str, medication: str = "", request_id: int | None = None
    ) -> Done:
        template = spoken.MESSAGES.get(key)
        if template is None:
            raise ActionError(f"there is no message template {key!r}")
        req = self.request(request_id) if request_id else None
        lang = req.lang if req else self.device_lang(device_id)
        text = self._render(template, lang, doctor=self._doctor(req), medication=medication)
        self._say(member, f"message:{key}", device_id, request_id, text, lang)
        return Done(f"Message sent; {device_id} will hear it.", text)

    def book_appointment(
        self, member: Member, device_id: str, day: str, time: str, request_id: int | None = None
    ) -> Done:
        req = self.request(request_id) if request_id else None
        lang = req.lang if req else self.device_lang(device_id)
        text = self._render(spoken.APPOINTMENT, lang, doctor=self._doctor(req), day=day, time=time)
        self._say(member, "appointment", device_id, request_id, text, lang)
        if req is not None:
            self.store.set_state(req.id, STATE_CLOSED)
        return Done(f"Appointment sent; {device_id} will hear it.", text)

    def resolve(self, member: Member, request_id: int) -> Done:
        req = self.request(request_id)
        self.store.set_state(req.id, STATE_CLOSED)
        self.team.audit(member.username, "resolve", device_id=req.device_id, request_id=req.id, outcome="ok")
        return Done("Resolved: removed from the queue.")

    def refused(
        self,
        member: Member,
        action: str,
        err: ActionError,
        device_id: str = "",
        request_id: int | None = None,
    ) -> None:
        """Audit an action that was refused before anything was sent (a bad time, an unknown id)."""
        if err.audited:
            return
        found = self.store.get(request_id) if request_id is not None else None
        self.team.audit(
            member.username,
            action,
            device_id=found.device_id if found else (device_id or None),
            request_id=found.id if found else None,
            outcome=f"refused: {err}",
        )

    # ------------------------------------------------------------------ plumbing

    def _render(self, template: spoken.Template, lang: str, **values: str) -> str:
        try:
            return spoken.render(template, lang, **values)
        except spoken.TemplateError as err:
            raise ActionError(str(err)) from None

    def _say(
        self, member: Member, action: str, device_id: str, request_id: int | None, text: str, lang: str
    ) -> None:
        from jiayi_backend.service import say_command

        try:
            command = say_command(device_id, text, SAY_EXPIRY_S, lang)
        except ValueError as err:
            raise ActionError(f"cannot send that: {err}") from None
        self._send(
            member,
            action,
            device_id,
            request_id,
            text,
            command.message_id,
            lambda: self.backend.send_command(command, SAY_EXPIRY_S),
        )

    def _send(
        self,
        member: Member,
        action: str,
        device_id: str,
        request_id: int | None,
        text: str,
        command_id: str,
        send: Callable[[], None],
    ) -> None:
        failure: CommandError | None = None
        try:
            send()
        except CommandError as err:
            failure = err
        self.team.audit(
            member.username,
            action,
            device_id=device_id,
            request_id=request_id,
            detail=text,
            command_id=command_id,
            outcome=f"failed: {failure}" if failure else "sent",
        )
        if failure is not None:
            _LOGGER.warning("event=action_failed action=%s device=%s reason=%s", action, device_id, failure)
            raise ActionError(f"Not sent: {failure}. Try again in a moment.", audited=True)
        _LOGGER.info("event=action_sent action=%s device=%s member=%s", action, device_id, member.username)
