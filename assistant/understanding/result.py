"""What the matcher understood from one utterance: the stage between recognition and dialogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

Tier = Literal["emergency", "confirm", "plain"]
TIER_EMERGENCY: Final = "emergency"
TIER_CONFIRM: Final = "confirm"
TIER_PLAIN: Final = "plain"


@dataclass(frozen=True)
class Understanding:
    """One utterance's meaning. ``intent`` is None when it is out of scope or rejected."""

    text: str
    """The normalised-for-display input text (transcript or typed text)."""
    lang: str
    """``en`` or ``zh``."""
    intent: str | None
    """Stable intent id (``call_doctor``, ``emergency`` …) or None."""
    slots: dict[str, str] = field(default_factory=dict)
    """Slot name → canonical value (a contact's or medication's config name, a catalog value id)."""
    confidence: float = 0.0
    """0.0–1.0 score of the best match."""
    margin: float = 0.0
    """Score difference to the runner-up intent (0.0–1.0)."""
    tier: Tier | None = None
    """Risk tier of ``intent``: emergency, confirm or plain."""
    transcript: str | None = None
    """Raw recognizer transcript when the input was speech (never sent off the device unless opted in)."""
    unsure: bool = False
    """Heard with middling acoustic confidence (``asr.confirm_confidence`` ≤ it < ``asr.act_confidence``):
    the dialogue asks "Did you say …?" before acting (never for an emergency: it has a cancel window)."""
    urgent: bool = False
    """``report_symptom`` whose symptom the vocabulary marks urgent (crushing chest pain, can't breathe,
    face drooping …): the dialogue asks "Do you need help right now?" and, unanswered, raises the
    emergency (docs/dialogue.md). Never set for any other intent."""
    spot_check: bool = False
    """An emergency the distress spotter heard without the wake phrase but only one of its two
    readings confirmed: the dialogue asks, slowly, "Did you call for help?" before the emergency
    flow; unanswered, it raises the emergency (docs/dialogue.md). Never set for any other intent."""

    def to_json(self) -> dict[str, Any]:
        """The stable ``jiayi understand --json`` object."""
        out: dict[str, Any] = {
            "text": self.text,
            "lang": self.lang,
            "intent": self.intent,
            "slots": dict(self.slots),
            "confidence": round(self.confidence, 3),
        }
        if self.transcript is not None:
            out["transcript"] = self.transcript
        if self.unsure:
            out["unsure"] = True
        if self.urgent:
            out["urgent"] = True
        if self.spot_check:
            out["spot_check"] = True
        return out
