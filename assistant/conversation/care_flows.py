"""The care flows of the dialogue: medication reminders and their answers, supply and reorder
offers, "what are my medicines today", the daily check-in, and "what did you send today".

Scheduling and persistence live in :mod:`~assistant.conversation.reminders` and
:mod:`~assistant.conversation.care_store`; this module decides what is said and sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Final

from assistant.conversation import actions as act
from assistant.conversation.care_store import DoseKey, is_quiet
from assistant.conversation.dialogue_base import DialogueBase, Pending, State, unique
from assistant.conversation.prompts import speak_number, speak_time
from assistant.conversation.reminders import DueReminder
from assistant.ops.settings import Medication
from assistant.understanding.result import Understanding

LATE_WORDING_AFTER_S: Final = 300.0
"""A reminder announced later than this (quiet hours, restart) names its time instead of "It's 8 o'clock"."""
CHECKIN_MAX_ASKS: Final = 2
"""The check-in question is asked at most this often before "no answer" is recorded."""
_CJK_RE: Final = re.compile(r"[\u3400-\u9fff]")


class CareFlows(DialogueBase):
    """Reminders, supply, medication questions, check-in and the day's sent requests."""

    # ------------------------------------------------------------ medication names

    def _medication(self, name: str) -> Medication:
        return self.reminders.medications.get(name) or Medication(name=name)

    def _fits_lang(self, text: str) -> bool:
        """True when ``text`` is written for the conversation's language (CJK for zh, else not)."""
        return bool(_CJK_RE.search(text)) == (self.lang == "zh")

    def _everyday(self, med: Medication) -> str | None:
        """The everyday name in this language ("blood pressure pill", "降压药"), if the config has one."""
        word = next((a for a in med.aliases if self._fits_lang(a)), None)
        if (
            word
            and self.lang == "en"
            and med.dose.lower().startswith(("one ", "1 "))
            and word.endswith("pills")
        ):
            word = word[:-1]  # "one tablet" → "your blood pressure pill"
        return word

    def _reminder_items(self, names: Iterable[str]) -> str:
        items = []
        for name in names:
            med = self._medication(name)
            everyday = self._everyday(med)
            dose = med.dose if med.dose and self._fits_lang(med.dose) else ""
            if dose and everyday:
                key = "reminder_item_long" if len(dose.split()) > 2 else "reminder_item"
            elif everyday:
                key = "reminder_item_no_dose"
            else:
                key = "reminder_item_plain"
            items.append(self.prompts.text(key, everyday=everyday or name, dose=dose, medication=med.name))
        return self.prompts.text("reminder_joiner").join(items)

    # ------------------------------------------------------------ reminders

    def _announce(self, due: DueReminder, now: dt.datetime) -> list[object]:
        self.reminders.mark_announced(due, now)
        self._reminder = due
        late = (now - due.scheduled).total_seconds() > LATE_WORDING_AFTER_S
        text = self.prompts.text(
            "reminder_late" if late else "reminder",
            person=self.settings.person.address_as,
            time=speak_time(due.scheduled.time(), self.lang),
            items=self._reminder_items(k.medication for k in due.doses),
        )
        says = [act.Say(text, "reminder", self.lang)]
        return [act.PlayEarcon("wake"), *self._ask(says, State.AWAITING_REMINDER_ANSWER)]

    def _reminder_follow_ups(self, now: dt.datetime) -> list[object]:
        follow = self.reminders.follow_ups(now)
        out: list[object] = []
        if follow.missed:
            self.reminders.mark_missed(follow.missed, now)
            if self._state is State.AWAITING_REMINDER_ANSWER:
                self._to_idle()
            for name in unique(r.key.medication for r in follow.missed):
                times = [r.key.time_text for r in follow.missed if r.key.medication == name]
                out.append(self._send("medication_missed", {"medication": name, "scheduled": times[0]}))
                if self._state is State.IDLE and not is_quiet(now, self.settings):
                    out.append(self._say("medication_missed", medication=name))
        if follow.repeat and self._state in (State.IDLE, State.AWAITING_REMINDER_ANSWER):
            if is_quiet(now, self.settings):
                return out
            self.reminders.mark_repeated(follow.repeat, now)
            text = self.prompts.text(
                "reminder_repeat",
                person=self.settings.person.address_as,
                items=self._reminder_items(unique(r.key.medication for r in follow.repeat)),
            )
            out += self._ask([act.Say(text, "reminder_repeat", self.lang)], State.AWAITING_REMINDER_ANSWER)
        return out

    def _answer_reminder(self, u: Understanding) -> list[object] | None:
        """An answer to an announced reminder; None when it is something else (a new request)."""
        if u.intent in ("medication_taken", "yes"):
            return self._medication_taken(u)
        if u.intent == "no":
            self._to_idle()
            return [self._say("reminder_later")]
        if u.intent is None:
            return self._not_understood(u)
        return None

    def _medication_taken(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        self._to_idle()
        med_slot = u.slots.get("medication")
        keys: list[DoseKey] = self.reminders.open_doses(now, med_slot)
        self.reminders.mark_taken(keys, now)
        names = unique(k.medication for k in keys) or ([med_slot] if med_slot else [])
        out: list[object] = []
        for name in names:
            scheduled = [k.time_text for k in keys if k.medication == name]
            slots = {"medication": name, **({"scheduled": scheduled[0]} if scheduled else {})}
            out.append(self._send("medication_taken", slots, understanding=u))
            self.supply.take(name, max(1, len(scheduled)))
        if names:
            joined = self.prompts.text("and_joiner").join(names)
            out.append(self._respond("medication_taken", "done", "reminder_taken", medication=joined))
        else:
            out.append(self._say("reminder_taken_nothing_due"))
        out += self._offer_reorder(names, now)
        return out

    def _offer_reorder(self, names: Iterable[str], now: dt.datetime) -> list[object]:
        for name in names:
            days = self.supply.reorder_due(name, self.reminders.doses_per_day(name), now.date())
            if days is None:
                continue
            self.supply.mark_offered(name, now.date())
            self._pending = Pending("reorder_medication", {"medication": name})
            self._tries = 0
            say = self._say("reorder_offer", days=speak_number(days, self.lang), medication=name)
            return self._ask([say], State.AWAITING_CONFIRMATION)
        return []

    def _medication_query(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        today = self.reminders.today(now)
        if not today:
            return [self._say("medication_none")]
        words = {
            "taken": self.prompts.text("medication_taken_word"),
            "missed": self.prompts.text("medication_missed_word"),
        }
        by_med: dict[str, list[tuple[dt.time, str]]] = {}
        for med, at, status in today:
            if status in words:
                word = words[status]
            elif dt.datetime.combine(now.date(), at, tzinfo=now.tzinfo) > now:
                word = self.prompts.text("medication_later_word")
            else:
                word = self.prompts.text("medication_not_yet_word")
            by_med.setdefault(med.name, []).append((at, word))
        items = []
        for name, entries in by_med.items():
            for at, word in entries:
                items.append(
                    self.prompts.text(
                        "medication_item", medication=name, times=speak_time(at, self.lang), status=word
                    )
                )
        out = []
        open_now = [k.medication for k in self.reminders.open_doses(now) if k.at(now.tzinfo) <= now]
        announced = unique(open_now)
        if announced:
            out.append(self._say("medication_now", items=self._reminder_items(announced)))
        out.append(self._say("medication_today", items=self.prompts.text("list_joiner").join(items)))
        self._last_prompt = [s for s in out if isinstance(s, act.Say)]
        return out

    # ------------------------------------------------------------ what did you send today

    def _sent_today(self, u: Understanding) -> list[object]:
        now = self.clock.now()
        records = self.store.sent_on(now.date())
        if not records:
            return [self._say("sent_today_none")]
        items = [
            self.prompts.text(
                "sent_today_item",
                time=speak_time(r.at.astimezone(now.tzinfo).time(), self.lang),
                summary=r.summary,
            )
            for r in records
        ]
        return [self._say("sent_today", items=self.prompts.text("list_joiner").join(items))]

    # ------------------------------------------------------------ check-in

    def _ask_checkin(self, now: dt.datetime) -> list[object]:
        if self._checkin_asks == 0:
            self.checkin.mark_asked(now)
        self._checkin_asks += 1
        key = "checkin_question" if now.hour < 12 else "checkin_question_later"
        asks = self._checkin_asks
        out = self._ask([self._say(key)], State.AWAITING_CHECKIN_ANSWER)
        self._checkin_asks = asks
        return out

    def _checkin_symptom(self, u: Understanding) -> list[object]:
        """A symptom as the check-in's answer: reported, and the check-in recorded as "symptom"."""
        self._to_idle()
        slots = {"symptom": u.slots["symptom"]}
        return [
            self._send("report_symptom", slots, tier=self.catalog.tier("report_symptom"), understanding=u),
            self._send("check_in", {"status": "symptom", **slots}, understanding=u),
            self._say("checkin_symptom", symptom=self.prompts.symptom_name(slots["symptom"])),
        ]

    def _checkin_silence(self) -> list[object]:
        if self._checkin_asks < CHECKIN_MAX_ASKS:
            return self._ask_checkin(self.clock.now())
        self._to_idle()
        return [self._send("check_in", {"status": "no_answer"})]

    def _answer_checkin(self, u: Understanding) -> list[object]:
        intent = u.intent
        if intent in ("feeling_fine", "yes"):
            self._to_idle()
            return [self._send("check_in", {"status": "fine"}, understanding=u), self._say("checkin_fine")]
        if intent == "report_symptom" and u.slots.get("symptom"):
            if u.urgent:
                return self._urgent_check(u, from_checkin=True)  # "Do you need help right now?"
            return self._checkin_symptom(u)
        if intent == "no":
            self._to_idle()
            out: list[object] = [self._send("check_in", {"status": "not_well"}, understanding=u)]
            self._pending = Pending("call_doctor", {})
            out += self._ask([self._say("checkin_not_well")], State.AWAITING_CONFIRMATION)
            return out
        if intent is None:
            if self._checkin_asks < CHECKIN_MAX_ASKS:
                return [self._say("not_understood"), *self._ask_checkin(self.clock.now())]
            self._to_idle()
            return [self._say("still_here")]
        return self._idle_intent(u)
