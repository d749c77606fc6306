"""vosk engine: the model is loaded once per process (:func:`assistant.hearing.vosk_models.load_vosk_model`);
every utterance gets a new ``KaldiRecognizer`` (not thread-safe, not reusable after FinalResult).

Grammar mode passes the phrase list plus ``[unk]`` to the recognizer. vosk silently ignores
words missing from the model's vocabulary, so phrases with unknown words are dropped here (and
``jiayi model verify`` lists them). vosk's own endpointing splits an utterance into segments
(``AcceptWaveform`` returns True); the segments are joined and the whole must be one complete
phrase, otherwise the transcript is rejected.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from assistant.hearing import vosk_models as models
from assistant.hearing.recognizer import Mode, Transcript, normalize_phrase, unique_phrases, wake_grammar
from assistant.hearing.sources import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)

ENGINE: Final = "vosk"
UNKNOWN: Final = "[unk]"


class _VoskDecoder:
    def __init__(self, owner: VoskRecognizer, mode: Mode) -> None:
        import vosk

        self._owner = owner
        self._allowed = owner._allowed.get(mode)
        grammar = owner._grammar_json.get(mode)
        if grammar is not None:
            self._rec = vosk.KaldiRecognizer(owner.model, SAMPLE_RATE, grammar)
        else:
            self._rec = vosk.KaldiRecognizer(owner.model, SAMPLE_RATE)
        self._segments: list[str] = []
        self.endpoints = 0

    def accept(self, pcm: bytes) -> None:
        if self._rec.AcceptWaveform(pcm):  # vosk's own endpoint: a segment is final
            self.endpoints += 1
            self._segments.append(json.loads(self._rec.Result()).get("text", ""))

    def finish(self) -> Transcript:
        started = time.monotonic()
        self._segments.append(json.loads(self._rec.FinalResult()).get("text", ""))
        self._rec = None  # never reused
        words = " ".join(s for s in self._segments if s).split()
        raw = normalize_phrase(" ".join(words))
        if self._allowed is None:
            text = " ".join(w for w in words if w != UNKNOWN)
        else:
            text = raw if raw in self._allowed else ""
        return Transcript(
            text, raw, ENGINE, self._owner.lang, self._allowed is not None, time.monotonic() - started
        )


class VoskRecognizer:
    engine = ENGINE

    def __init__(
        self,
        model_path: Path,
        phrases: Sequence[str] | None,
        wake_phrase: str = "",
        *,
        lang: str = "en",
    ) -> None:
        self.lang = lang
        self.model_path = Path(model_path)
        self.model: Any = models.load_vosk_model(self.model_path)
        self.vocabulary = models.model_vocabulary(self.model_path)
        self.grammar_supported = models.supports_grammar(self.model_path)
        self._allowed: dict[str, frozenset[str]] = {}
        self._grammar_json: dict[str, str] = {}
        self.dropped_phrases: list[str] = []
        if phrases is not None:
            self._add_grammar("command", unique_phrases(phrases))
        if wake_phrase:
            self._add_grammar("wake", wake_grammar(wake_phrase, phrases))

    def _add_grammar(self, mode: str, phrases: list[str]) -> None:
        if not self.grammar_supported:
            _LOGGER.warning("model %s has a static graph: grammar ignored, free-form", self.model_path.name)
            return
        usable = [p for p in phrases if all(w in self.vocabulary for w in p.split())]
        dropped = [p for p in phrases if p not in usable]
        if dropped:
            self.dropped_phrases.extend(dropped)
            _LOGGER.warning("%s grammar: %d phrase(s) use words missing from the model", mode, len(dropped))
        if not usable:
            _LOGGER.warning("%s grammar is empty; falling back to free-form", mode)
            return
        grammar = [*usable, UNKNOWN] if UNKNOWN in self.vocabulary else usable
        self._allowed[mode] = frozenset(usable)
        self._grammar_json[mode] = json.dumps(grammar, ensure_ascii=False)

    def begin(self, mode: Mode = "command") -> _VoskDecoder:
        return _VoskDecoder(self, mode)

    def close(self) -> None:
        """The model stays cached for the process (loaded once)."""
