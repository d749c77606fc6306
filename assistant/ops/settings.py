"""Typed, frozen settings built once at start-up from the caregiver's config.yaml.

Nothing in the package reads YAML except :mod:`assistant.ops.config`, which builds a
:class:`Settings` from a file (with line-numbered error reports). Everything else receives
these objects. Every field has a docstring; the example ``config.yaml`` documents the same
fields for caregivers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")


@dataclass(frozen=True)
class Person:
    name: str
    """Full name of the person the speaker serves (only used on the device and in requests)."""
    address_as: str
    """How the assistant addresses them when speaking, e.g. "Margaret" or "王阿姨"."""
    language: Language = "en"
    """Language the assistant listens and speaks in: ``en`` or ``zh`` (Mandarin)."""


@dataclass(frozen=True)
class Doctor:
    name: str
    """The family doctor's name as it is spoken back, e.g. "Dr. Chen" or "陈医生"."""
    phone: str = ""
    """Phone number used by the phone fallback when the backend cannot be reached."""
    aliases: tuple[str, ...] = ()
    """Other words the person uses for the doctor ("my GP", "陈大夫")."""


@dataclass(frozen=True)
class Contact:
    name: str
    """Name spoken back, e.g. "Anna"."""
    relation: str = ""
    """Relation to the person, e.g. "daughter"; also matched ("call my daughter")."""
    aliases: tuple[str, ...] = ()
    """Other ways the person refers to this contact ("my girl", "女儿")."""
    phone: str = ""
    """Phone number for calls and SMS through the phone fallback."""
    emergency: bool = False
    """Dialled (in list order) when an emergency is not acknowledged by the backend."""
    sms: bool = False
    """Receives SMS notifications (for caregivers without the app)."""


@dataclass(frozen=True)
class Medication:
    name: str
    """Medicine name as on the pack, e.g. "amlodipine"."""
    aliases: tuple[str, ...] = ()
    """Everyday names the person uses: "blood pressure pills", "降压药"."""
    dose: str = ""
    """Dose as spoken, e.g. "one tablet" or "一片"."""
    times: tuple[dt.time, ...] = ()
    """Times of day for reminders (local time)."""
    pack_size: int | None = None
    """Doses in one pack; enables the supply count and reorder offers."""
    doses_on_hand: int | None = None
    """Doses in the house when this config was written (supply count start)."""
    reorder_when_days_left: int = 7
    """Offer a reorder when fewer than this many days of supply remain."""


@dataclass(frozen=True)
class Voice:
    rate_wpm: int = 130
    """Speaking rate in words per minute; slow by default for older listeners."""
    volume: float = 1.0
    """Output volume from 0.0 to 1.0."""
    wake_phrase: str = "hello jiayi"
    """Words that wake the assistant before a command ("hello jiayi"; for a Mandarin speaker the
    default becomes 你好家医); "" = no wake phrase: always listening, or the button. Emergencies
    ("help", "I've fallen") are heard without it."""
    voice_en: str = "en-gb"
    """espeak-ng voice used for English."""
    voice_zh: str = "cmn-latn-pinyin"
    """espeak-ng voice used for Mandarin (``cmn-latn-pinyin`` pronounces characters on espeak-ng 1.51)."""


@dataclass(frozen=True)
class QuietHours:
    start: dt.time | None = None
    """Start of quiet hours (no reminders or check-ins spoken); None = no quiet hours."""
    end: dt.time | None = None
    """End of quiet hours."""

    def contains(self, t: dt.time) -> bool:
        """True when ``t`` falls inside quiet hours (handles ranges over midnight)."""
        if self.start is None or self.end is None or self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True)
class Tls:
    ca_file: str = ""
    """CA certificate (PEM) used to verify the broker."""
    cert_file: str = ""
    """Client certificate (PEM) for mutual TLS; optional."""
    key_file: str = ""
    """Client private key (PEM) for mutual TLS; optional."""


@dataclass(frozen=True)
class Backend:
    url: str = ""
    """Broker URL ``mqtt://host:port`` or ``mqtts://host:port``; empty = no connection to a practice."""
    device_id: str = "jiayi-demo"
    """This speaker's id; part of every topic (letters, digits, ``-`` and ``_``)."""
    username: str = ""
    """MQTT username, if the broker requires one."""
    password: str = ""
    """MQTT password (prefer ``password_file``)."""
    password_file: str = ""
    """File holding the MQTT password."""
    tls: Tls = field(default_factory=Tls)
    """TLS files; used with ``mqtts://`` URLs."""
    send_transcripts: bool = False
    """Opt-in: include the raw transcript in requests (off by default for privacy)."""


@dataclass(frozen=True)
class Emergency:
    local_number: str = ""
    """The local emergency number (120, 999, 911, 112 …) she is told to call when no route reached anyone;
    empty = she is told to call the emergency number on her phone."""
    dial_local_number: bool = False
    """Opt-in: when every route failed, the modem dials ``local_number`` itself (never without this)."""
    accept_alarm_only: bool = False
    """Explicit opt-out: this speaker has no route that reaches a person (no backend, no modem) and the
    caregiver accepts that an emergency only sounds the alarm in the room; spoken at start-up and
    shown by ``jiayi status``. Without it ``check-config`` refuses such a config."""


@dataclass(frozen=True)
class PhoneFallback:
    enabled: bool = True
    """Use a phone call/SMS when the backend is unreachable or nobody answers an emergency."""
    driver: Literal["modem", "log", "none"] = "log"
    """``modem`` (AT commands over a serial port), ``log`` (write what would be dialled), ``none``."""
    serial_port: str = "/dev/ttyUSB2"
    """Serial device of the cellular modem."""
    baudrate: int = 115200
    """Serial speed of the modem."""
    ring_timeout_s: float = 45.0
    """How long to let a call ring before trying the next contact."""


@dataclass(frozen=True)
class Audio:
    input: Literal["mic", "wav", "stdin", "null"] = "mic"
    """Where audio comes from: microphone, a WAV file, raw 16 kHz PCM on stdin, or nothing."""
    input_device: str = ""
    """Microphone name pattern (substring/regex) as listed by ``jiayi listen --devices``; empty = default."""
    input_wav: str = ""
    """WAV file used when ``input: wav``."""
    output: Literal["speaker", "wav", "null"] = "speaker"
    """Where speech goes: the speaker, WAV files, or nowhere."""
    output_device: str = ""
    """Speaker name pattern; empty = default."""
    output_dir: str = ""
    """Folder for WAV output when ``output: wav``."""


@dataclass(frozen=True)
class Asr:
    engine: Literal["auto", "vosk", "pocketsphinx"] = "auto"
    """Speech recognizer: ``auto`` picks vosk when a model for the language is installed, else pocketsphinx for English."""
    model: str = ""
    """vosk model name or folder; empty = the installed model for the configured language."""
    models_dir: str = ""
    """Where ``jiayi model install`` puts vosk models; empty = the state directory's ``models/``."""
    grammar: bool = True
    """Restrict recognition to catalog and config phrases (more accurate); False = free-form."""
    trailing_silence_s: float = 1.2
    """Silence that ends an utterance; long enough for slow, halting speech."""
    max_utterance_s: float = 12.0
    """Longest utterance before recognition is cut off."""
    vad_aggressiveness: int = 2
    """webrtcvad aggressiveness 0-3 (3 filters the most noise)."""
    decoder: Literal["grammar", "language_model"] = "grammar"
    """pocketsphinx: ``grammar`` decodes straight to intents with the catalog compiled as a
    finite-state grammar; ``language_model`` decodes with a trigram model of the catalog's
    sentences and leaves the words to the intent matcher (measured in docs/benchmarks/speech.md)."""
    noise_filter: Literal["rnnoise", "webrtc", "none"] = "rnnoise"
    """Noise suppression before endpointing and recognition: ``rnnoise`` (RNNoise network),
    ``webrtc`` (WebRTC noise suppression + automatic gain) or ``none``."""
    act_confidence: float = 0.99
    """Confidence (0–1) at or above which a heard command is acted on; below it (and at or above
    ``confirm_confidence``) the assistant asks "Did you say …?". With the second opinion (built-in
    English catalog) agreement is 1.0 and a sure language-model reading ≥ 0.99; a lone reading of
    the understander's 0.95–0.99 or the grammar's alone (0.6) is asked back (docs/benchmarks/speech.md,
    round 8). Engines without a confidence count as 1.0."""
    confirm_confidence: float = 0.6
    """Confidence below which the assistant asks to repeat instead of guessing."""


class CatalogChoice(NamedTuple):
    """Which intent catalogs to load: a single value (like a time of day), built from
    ``understanding.catalog`` by :mod:`assistant.ops.config`; empty = the built-in catalogs."""

    folder: str = ""
    """Folder holding ``<lang>.yaml`` and optionally ``prompts-<lang>.yaml`` (absolute)."""
    files: tuple[tuple[str, str], ...] = ()
    """(language, catalog file) pairs when the config names one file per language (absolute)."""

    def __str__(self) -> str:
        return (
            self.folder
            or ", ".join(f"{lang}: {file}" for lang, file in self.files)
            or "the built-in catalogs"
        )


@dataclass(frozen=True)
class UnderstandingOptions:
    catalog: CatalogChoice = CatalogChoice()
    """Intent catalogs for another command domain: a folder holding ``<lang>.yaml`` (and optionally
    ``prompts-<lang>.yaml``), or one file per language (``{en: home-en.yaml}``); empty = the
    built-in family-doctor catalogs. Format: docs/catalog-format.md."""


@dataclass(frozen=True)
class Dialogue:
    emergency_cancel_s: float = 5.0
    """Seconds the person has to say "cancel" before an emergency alert goes out."""
    answer_timeout_s: float = 8.0
    """Seconds to wait for an answer (yes/no) before asking again."""
    max_tries: int = 2
    """Failed tries before offering the phone fallback."""


@dataclass(frozen=True)
class Reminders:
    answer_timeout_s: float = 600.0
    """Seconds to wait for "I took it" before repeating the reminder once."""
    missed_after_s: float = 1800.0
    """Seconds after the reminder when an unconfirmed dose is reported as missed."""


@dataclass(frozen=True)
class CheckIn:
    time: dt.time | None = None
    """Time of the daily "how are you feeling" check-in; None = off."""
    inactivity_hours: float = 0.0
    """Notify caregivers after this many hours with no interaction; 0 = off (opt-in)."""


@dataclass(frozen=True)
class Privacy:
    log_transcripts: bool = False
    """Opt-in: write what the person said into the logs (a warning is logged at start-up)."""


@dataclass(frozen=True)
class Settings:
    person: Person
    """The person the speaker serves."""
    doctor: Doctor
    """Their family doctor."""
    contacts: tuple[Contact, ...] = ()
    """Family and friends who can be called; emergency ones are dialled in this order."""
    medications: tuple[Medication, ...] = ()
    """Medicines, their everyday names, reminder times and supply."""
    voice: Voice = field(default_factory=Voice)
    """How the assistant speaks and wakes."""
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    """When the speaker stays quiet."""
    backend: Backend = field(default_factory=Backend)
    """Family-doctor backend (MQTT)."""
    phone_fallback: PhoneFallback = field(default_factory=PhoneFallback)
    """Phone calls and SMS when the backend can't be reached."""
    audio: Audio = field(default_factory=Audio)
    """Microphone and speaker."""
    asr: Asr = field(default_factory=Asr)
    """Speech recognition."""
    understanding: UnderstandingOptions = field(default_factory=UnderstandingOptions)
    """What the assistant understands (the intent catalogs)."""
    dialogue: Dialogue = field(default_factory=Dialogue)
    """Conversation timing."""
    reminders: Reminders = field(default_factory=Reminders)
    """Medication reminder timing."""
    checkin: CheckIn = field(default_factory=CheckIn)
    """Daily check-in and inactivity alert."""
    privacy: Privacy = field(default_factory=Privacy)
    """What may be logged."""
    emergency: Emergency = field(default_factory=Emergency)
    """What happens when no route reaches a person (local number, alarm-only opt-out)."""
    state_dir: str = ""
    """Folder for the outbox, schedules and models; empty = ``$STATE_DIRECTORY`` or ``~/.local/state/jiayi``."""
    source_path: str = ""
    """The file these settings came from (set by the loader)."""

    @property
    def language(self) -> Language:
        return self.person.language

    def emergency_contacts(self) -> tuple[Contact, ...]:
        """Contacts to dial in an emergency, in config order (all contacts with a phone if none is marked)."""
        marked = tuple(c for c in self.contacts if c.emergency and c.phone)
        return marked or tuple(c for c in self.contacts if c.phone)
