"""Config loading and validation: one test per kind of mistake, each checking key path and line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant import cli
from assistant.ops import config
from assistant.ops.config import ConfigError, Problem
from assistant.ops.settings import Settings

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
person:
  name: "Margaret Lee"
  address_as: "Margaret"
  language: en
doctor:
  name: "Dr. Chen"
  phone: "+1 555 0100"
emergency:
  accept_alarm_only: true
contacts:
  - name: "Anna"
    relation: "daughter"
    phone: "+1 555 0101"
    emergency: true
medications:
  - name: "amlodipine"
    aliases: ["blood pressure pills"]
    times: ["08:00"]
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def marked_line(text: str, marker: str = "# <-") -> int:
    """1-based number of the line carrying the marker comment."""
    for number, line in enumerate(textwrap.dedent(text).splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"no {marker!r} in test YAML")


def only_problem(path: Path) -> Problem:
    problems = config.check_config(path)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# ------------------------------------------------------------------------------------------------
# One test per kind of mistake (table-driven): YAML text with "# <-" on the line to be named.

MISTAKES = {
    "required_section_empty": (
        GOOD.split("doctor:")[0] + "doctor:  # <-\n",
        "doctor",
        "add name: on the next lines",
    ),
    "value_missing": (
        GOOD + "voice:\n  rate_wpm:  # <-\n",
        "voice.rate_wpm",
        "delete the line to use the default (130)",
    ),
    "unknown_key_typo": (
        GOOD + "voice:\n  rate: 120  # <-\n",
        "voice.rate",
        'did you mean "rate_wpm"?',
    ),
    "key_in_wrong_section": (
        GOOD + "rate_wpm: 120  # <-\n",
        "rate_wpm",
        'move it under "voice:"',
    ),
    "unknown_key_no_guess": (
        GOOD + "favourite_colour: blue  # <-\n",
        "favourite_colour",
        'unknown key "favourite_colour"',
    ),
    "missing_required_key_names_parent_line": (
        GOOD.replace('  name: "Margaret Lee"\n', "").replace("person:\n", "person:  # <-\n"),
        "person.name",
        'add "name:" under person:',
    ),
    "wrong_type_text_for_number": (
        GOOD + 'voice:\n  volume: "loud"  # <-\n',
        "voice.volume",
        '"loud" is not a number',
    ),
    "number_in_quotes": (
        GOOD + 'voice:\n  rate_wpm: "120"  # <-\n',
        "voice.rate_wpm",
        "remove the quotes",
    ),
    "volume_out_of_range": (
        GOOD + "voice:\n  volume: 1.5  # <-\n",
        "voice.volume",
        "use a value from 0 to 1",
    ),
    "rate_out_of_range": (
        GOOD + "voice:\n  rate_wpm: 300  # <-\n",
        "voice.rate_wpm",
        "use a value from 80 to 250 words per minute",
    ),
    "negative_number": (
        GOOD + "checkin:\n  inactivity_hours: -2  # <-\n",
        "checkin.inactivity_hours",
        "out of range",
    ),
    "language_not_supported": (
        GOOD.replace("  language: en\n", "  language: fr  # <-\n"),
        "person.language",
        "use en (English) or zh (Mandarin Chinese)",
    ),
    "choice_typo": (
        GOOD + "audio:\n  output: speakers  # <-\n",
        "audio.output",
        'did you mean "speaker"?',
    ),
    "bad_bool": (
        GOOD.replace("    emergency: true\n", "    emergency: maybe  # <-\n"),
        "contacts[0].emergency",
        "is not yes or no",
    ),
    "bad_time": (
        GOOD + '  - name: "metformin"\n    times:\n      - "25:00"  # <-\n',
        "medications[1].times[0]",
        '"25:00" is not a time of day; use HH:MM such as 08:30',
    ),
    "time_as_number": (
        GOOD + "checkin:\n  time: 8  # <-\n",
        "checkin.time",
        "is not a time of day",
    ),
    "duplicate_time": (
        GOOD.replace('    times: ["08:00"]\n', '    times: ["08:00",\n            "08:00"]  # <-\n'),
        "medications[0].times[1]",
        "08:00 is listed twice",
    ),
    "phone_unquoted_number": (
        GOOD.replace('  phone: "+1 555 0100"\n', "  phone: 05550100  # <-\n"),
        "doctor.phone",
        'put it in quotes: "05550100"',
    ),
    "phone_not_a_number": (
        GOOD.replace('    phone: "+1 555 0101"\n', '    phone: "call Anna"  # <-\n'),
        "contacts[0].phone",
        "does not look like a phone number",
    ),
    "name_given_as_number": (
        GOOD.replace('  name: "Dr. Chen"\n', "  name: 42  # <-\n"),
        "doctor.name",
        'put it in quotes: "42"',
    ),
    "empty_name": (
        GOOD.replace('  name: "Dr. Chen"\n', '  name: ""  # <-\n'),
        "doctor.name",
        "is empty",
    ),
    "empty_alias": (
        GOOD.replace('    aliases: ["blood pressure pills"]\n', '    aliases:\n      - ""  # <-\n'),
        "medications[0].aliases[0]",
        "empty alias",
    ),
    "list_expected": (
        GOOD.split("contacts:")[0] + 'contacts: {name: "Anna"}  # <-\n',
        "contacts",
        "should be a list",
    ),
    "section_expected": (
        GOOD + "voice: loud  # <-\n",
        "voice",
        "should be a group of keys",
    ),
    "empty_list_item": (
        GOOD + "  -  # <-\n",
        "medications[1]",
        "empty list item",
    ),
    "bad_url_scheme": (
        GOOD + 'backend:\n  url: "https://care.example.org"  # <-\n',
        "backend.url",
        "start it with mqtt:// or mqtts://",
    ),
    "bad_url_port": (
        GOOD + 'backend:\n  url: "mqtt://care.example.org:99999"  # <-\n',
        "backend.url",
        "bad port number",
    ),
    "bad_device_id": (
        GOOD + 'backend:\n  device_id: "Margaret\'s speaker"  # <-\n',
        "backend.device_id",
        "letters, digits, - and _",
    ),
    "duplicate_contact_name": (
        GOOD.replace("medications:", '  - name: "anna"  # <-\n    phone: "+1 555 0109"\nmedications:'),
        "contacts[1].name",
        'two contacts are called "anna"',
    ),
    "alias_shared_by_two_contacts": (
        GOOD.replace(
            "medications:",
            '  - name: "David"\n    phone: "+1 555 0102"\n    aliases: ["Anna"]  # <-\nmedications:',
        ),
        "contacts[1].aliases[0]",
        "could not tell who is meant",
    ),
    "emergency_contact_without_phone": (
        GOOD.replace('    phone: "+1 555 0101"\n', "").replace(
            "    emergency: true\n", "    emergency: true  # <-\n"
        ),
        "contacts[0].emergency",
        "has no phone number",
    ),
    "duplicate_medication": (
        GOOD + '  - name: "Amlodipine"  # <-\n',
        "medications[1].name",
        "is listed twice",
    ),
    "tls_file_missing": (
        GOOD + 'backend:\n  url: "mqtts://care.example.org:8883"\n  tls:\n    ca_file: "ca.pem"  # <-\n',
        "backend.tls.ca_file",
        "does not exist",
    ),
    "tls_cert_without_key": (
        GOOD + 'backend:\n  tls:\n    cert_file: "config.yaml"  # <-\n',
        "backend.tls.cert_file",
        "add key_file too",
    ),
    "mqtts_local_broker_without_ca": (
        GOOD + 'backend:\n  url: "mqtts://192.168.1.20:8883"  # <-\n',
        "backend.tls.ca_file",
        "set backend.tls.ca_file",
    ),
    "tls_files_with_plain_mqtt": (
        GOOD + 'backend:\n  url: "mqtt://care.example.org"  # <-\n  tls:\n    ca_file: "config.yaml"\n',
        "backend.url",
        "use mqtts://",
    ),
    "password_twice": (
        GOOD + 'backend:\n  password: "secret"  # <-\n  password_file: "config.yaml"\n',
        "backend.password",
        "keep only password_file",
    ),
    "quiet_hours_half": (
        GOOD + 'quiet_hours:  # <-\n  start: "22:00"\n',
        "quiet_hours.end",
        "need both a start and an end",
    ),
    "reminder_inside_quiet_hours": (
        GOOD.replace('    times: ["08:00"]\n', '    times: ["06:00"]  # <-\n')
        + 'quiet_hours:\n  start: "22:00"\n  end: "07:00"\n',
        "medications[0].times[0]",
        "falls inside quiet hours",
    ),
    "missed_before_repeat": (
        GOOD + "reminders:\n  answer_timeout_s: 900\n  missed_after_s: 600  # <-\n",
        "reminders.missed_after_s",
        "larger than answer_timeout_s",
    ),
    "wav_input_without_file": (
        GOOD + "audio:\n  input: wav  # <-\n",
        "audio.input_wav",
        "needs a WAV file",
    ),
    "internal_key": (
        GOOD + 'source_path: "x"  # <-\n',
        "source_path",
        "set by Jiayi itself",
    ),
    "duplicate_key": (
        GOOD + "voice:\n  volume: 0.5\n  volume: 0.7  # <-\n",
        "volume",
        "appears twice",
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_names_key_and_line(tmp_path: Path, case: str) -> None:
    text, key, fragment = MISTAKES[case]
    problem = only_problem(write(tmp_path, text))
    assert problem.key == key, str(problem)
    assert problem.line == marked_line(text), str(problem)
    assert fragment in str(problem), str(problem)
    assert str(problem).startswith(f"{problem.file}:{problem.line} {key}: ")


def test_example_line_format_is_exact(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + '  - name: "metformin"\n    times: ["08:00", "25:00"]\n')
    (problem,) = config.check_config(path)
    assert str(problem) == (
        f'{path}:20 medications[1].times[1]: "25:00" is not a time of day; use HH:MM such as 08:30'
    )


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("person:\n  name: x\n\tdoctor: y\n", 3, "tab"),
        ("person:\n  name: x\n address_as: y\n", 3, "indentation"),
        ('person:\n  name: "Margaret\n', 2, "quote is not closed"),
        ("person:\n  name: Dr: Chen\n", 2, "colon"),
        ("contacts: [Anna, David\nperson: x\n", 1, "list ] is not closed"),
    ],
)
def test_yaml_syntax_error_is_one_plain_problem(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    problem = only_problem(write(tmp_path, text))
    assert problem.line == line, str(problem)
    assert "not valid YAML at column" in problem.message
    assert fragment in str(problem)
    assert "<block" not in str(problem)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = """\
    person:
      name: ""
      language: fr
    doctor:
      name: "Dr. Chen"
      phone: 12345
    contacts:
      - name: Anna
        emergency: true
    voice:
      volume: 3
      rate: 100
    backend:
      url: "http://x"
    """
    problems = config.check_config(write(tmp_path, text))
    keys = {p.key for p in problems}
    assert keys == {
        "person.name",
        "person.address_as",
        "person.language",
        "doctor.phone",
        "contacts[0].emergency",
        "voice.volume",
        "voice.rate",
        "backend.url",
    }
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)
    with pytest.raises(ConfigError) as caught:
        config.load_settings(tmp_path / "config.yaml")
    assert caught.value.problems == problems
    assert str(caught.value).splitlines() == [str(p) for p in problems]


def test_missing_top_level_section(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, GOOD.split("doctor:")[0]))
    assert (problem.key, problem.line) == ("doctor", 1)
    assert 'add "doctor:" at the top level' in str(problem)


# ------------------------------------------------------------------------------------------------
# Whole-file problems


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"- Margaret\n- Anna\n", "should be a set of keys"),
        (b"just some words", "should be a set of keys"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe\x00", "not"),
        (b"person:\n  name: \xff\xfe\n", "UTF-8"),
    ],
)
def test_not_a_config(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    problem = only_problem(path)
    assert fragment in str(problem)
    with pytest.raises(ConfigError):
        config.load_settings(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "file not found" in str(only_problem(tmp_path / "nope.yaml"))
    assert "is a folder" in str(only_problem(tmp_path))


# ------------------------------------------------------------------------------------------------
# Values that load


def test_good_values_load(tmp_path: Path) -> None:
    from mqtt_helpers import make_ca

    ca_files, _cert, _key = make_ca(tmp_path / "certs")
    ca_files.cert.rename(tmp_path / "certs" / "ca.pem")
    text = GOOD + textwrap.dedent(
        """\
        quiet_hours:
          start: "22:00"
          end: 7:30
        voice:
          volume: 1
          wake_phrase: ""
        backend:
          url: "mqtts://broker.home.example.org:8883"
          tls:
            ca_file: certs/ca.pem
        contacts_extra_is_not_allowed: 1
        """
    ).replace("contacts_extra_is_not_allowed: 1\n", "")
    settings = config.load_settings(write(tmp_path, text))
    assert isinstance(settings, Settings)
    assert settings.source_path == str((tmp_path / "config.yaml").resolve())
    assert settings.quiet_hours.end == dt.time(7, 30)
    assert settings.voice.volume == 1.0 and isinstance(settings.voice.volume, float)
    assert settings.voice.wake_phrase == ""
    assert settings.backend.tls.ca_file == str(tmp_path / "certs" / "ca.pem")
    assert settings.contacts[0].emergency is True
    assert settings.medications[0].times == (dt.time(8, 0),)


def test_single_value_where_a_list_is_expected(tmp_path: Path) -> None:
    text = GOOD.replace('    aliases: ["blood pressure pills"]\n', '    aliases: "降压药"\n').replace(
        '    times: ["08:00"]\n', '    times: "08:00"\n'
    )
    med = config.load_settings(write(tmp_path, text)).medications[0]
    assert med.aliases == ("降压药",)
    assert med.times == (dt.time(8, 0),)


def test_yaml_1_1_sexagesimal_times_are_recovered(tmp_path: Path) -> None:
    text = "%YAML 1.1\n---\n" + GOOD.replace('    times: ["08:00"]\n', "    times: [8:30, 18:05]\n")
    settings = config.load_settings(write(tmp_path, text))
    assert settings.medications[0].times == (dt.time(8, 30), dt.time(18, 5))


def test_yes_no_words_are_booleans(tmp_path: Path) -> None:
    text = GOOD.replace("    emergency: true\n", "    emergency: yes\n    sms: no\n")
    contact = config.load_settings(write(tmp_path, text)).contacts[0]
    assert (contact.emergency, contact.sms) == (True, False)


def test_schema_covers_every_settings_field() -> None:
    specs = {s.name for s in config.field_specs(Settings)}
    assert specs == {f.name for f in dataclasses.fields(Settings)} - {"source_path"}
    person = {s.name: s for s in config.field_specs(config.settings_module.Person)}
    assert person["name"].required and not person["language"].required


# ------------------------------------------------------------------------------------------------
# The shipped files


@pytest.mark.parametrize("path", ["config.yaml", "docs/examples/config-zh.yaml"])
def test_shipped_configs_load(path: str) -> None:
    settings = config.load_settings(REPO / path)
    assert settings.person.name and settings.doctor.name
    assert len(settings.contacts) >= 2 and len(settings.medications) >= 2


def test_zh_example_is_mandarin() -> None:
    settings = config.load_settings(REPO / "docs/examples/config-zh.yaml")
    assert settings.language == "zh"
    assert settings.person.address_as == "王阿姨"
    assert any("降压药" in m.aliases for m in settings.medications)


def test_embedded_default_is_the_demo() -> None:
    settings = config.default_settings()
    assert (settings.person.name, settings.person.address_as, settings.language) == (
        "Margaret Lee",
        "Margaret",
        "en",
    )
    assert settings.doctor.name == "Dr. Chen"
    assert [(c.name, c.relation) for c in settings.contacts] == [("Anna", "daughter"), ("David", "son")]
    amlodipine, metformin = settings.medications
    assert "blood pressure pills" in amlodipine.aliases and "降压药" in amlodipine.aliases
    assert amlodipine.times == (dt.time(8, 0),) and amlodipine.pack_size == 28
    assert "diabetes pills" in metformin.aliases and "降糖药" in metformin.aliases
    assert metformin.times == (dt.time(8, 0), dt.time(18, 0))
    assert settings.backend.url == ""
    assert settings.audio == type(settings.audio)() and settings.asr == type(settings.asr)()


def test_every_key_is_documented_and_in_the_example() -> None:
    guide = (REPO / "docs/configuration.md").read_text(encoding="utf-8")
    example = (REPO / "config.yaml").read_text(encoding="utf-8")
    missing_doc, missing_example = [], []

    def walk(cls: type, prefix: str) -> None:
        for spec in config.field_specs(cls):
            key = f"{prefix}{spec.name}"
            if f"`{key}`" not in guide:
                missing_doc.append(key)
            if f"{spec.name}:" not in example:
                missing_example.append(key)
            inner = config._item_type(spec.type) or config._strip_optional(spec.type)
            if dataclasses.is_dataclass(inner):
                walk(inner, key + ("[]." if config._item_type(spec.type) else "."))

    walk(Settings, "")
    assert missing_doc == [], "keys missing from docs/configuration.md"
    assert missing_example == [], "keys missing from config.yaml"


# ------------------------------------------------------------------------------------------------
# Where the config comes from


@pytest.fixture
def no_system_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "etc-jiayi-config.yaml")


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_system_config: None) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert config.load_settings().source_path == str(config.EMBEDDED_CONFIG.resolve())

    config.SYSTEM_CONFIG.write_text(GOOD.replace("Margaret Lee", "System Person"))
    assert config.load_settings().person.name == "System Person"

    write(work, GOOD.replace("Margaret Lee", "Local Person"))
    assert config.load_settings().person.name == "Local Person"

    env_file = write(tmp_path, GOOD.replace("Margaret Lee", "Env Person"), "env.yaml")
    monkeypatch.setenv(config.ENV_VAR, str(env_file))
    assert config.load_settings().person.name == "Env Person"

    given = write(tmp_path, GOOD.replace("Margaret Lee", "Given Person"), "given.yaml")
    assert config.load_settings(given).person.name == "Given Person"
    assert config.load_settings(str(given)).source_path == str(given.resolve())


def test_env_var_naming_a_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_system_config: None
) -> None:
    monkeypatch.setenv(config.ENV_VAR, str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="file not found"):
        config.load_settings()


# ------------------------------------------------------------------------------------------------
# jiayi check-config


def test_cli_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check-config", str(REPO / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        f"{REPO / 'config.yaml'} is OK: Margaret, 2 contacts, 2 medications, reminders at 08:00, 18:00"
    )


def test_cli_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD + "voice:\n  volume: 2\n  rate: 1\n")
    assert cli.main(["check-config", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"{path}:20 voice.volume: 2 is out of range")
    assert lines[1].startswith(f"{path}:21 voice.rate: unknown key")
    assert lines[2] == "2 problems found."


@pytest.mark.parametrize("target", ["missing.yaml", "."])
def test_cli_missing_file_or_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    assert cli.main(["check-config", str(tmp_path / target)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("file not found" in err or "is a folder" in err)


def test_cli_without_path_checks_the_search_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_system_config: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check-config"]) == 0
    assert "default_config.yaml (built in) is OK: Margaret" in capsys.readouterr().out


def test_cli_subprocess_never_shows_a_traceback(tmp_path: Path) -> None:
    jiayi = REPO / ".venv" / "bin" / "jiayi"
    if not jiayi.exists():
        jiayi_cmd = [sys.executable, "-m", "assistant"]
    else:
        jiayi_cmd = [str(jiayi)]
    broken = write(tmp_path, "person:\n  name: [unclosed\n\t doctor: {\n")
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(bytes(range(256)) * 4)
    unreadable = write(tmp_path, GOOD, "unreadable.yaml")
    unreadable.chmod(0)
    root = os.geteuid() == 0  # root reads the chmod-0 file anyway
    for target in (broken, garbage, unreadable, tmp_path):
        result = subprocess.run(
            [*jiayi_cmd, "check-config", str(target)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert "Traceback" not in result.stderr + result.stdout
        if target == unreadable and root:
            assert result.returncode == 0, result.stderr
            continue
        assert result.returncode == 1, result.stderr
        assert str(target) in result.stderr


def test_damaged_example_never_crashes(tmp_path: Path) -> None:
    """Deleting any one line of the example, or breaking it with YAML punctuation, is reported."""
    lines = (REPO / "config.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "config.yaml"
    for index, line in enumerate(lines):
        for damaged in ("", line.replace(":", "", 1), line.replace("  ", "\t", 1), "  " + line + "- x\n"):
            path.write_text("".join(lines[:index]) + damaged + "".join(lines[index + 1 :]), encoding="utf-8")
            problems = config.check_config(path)  # must not raise
            assert all(str(p).startswith(str(path)) for p in problems)
