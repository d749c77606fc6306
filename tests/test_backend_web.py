"""The doctor team's page through Flask's test client, against a real broker, backend and device relay:
login, CSRF, every action reaches the speaker and is audited, templates refuse bad fields."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mqtt_helpers import Collector, make_settings, start_broker, start_relay

from assistant import cli
from assistant.conversation.actions import BackendAck, BackendSay, SendRequest
from jiayi_backend import spoken
from jiayi_backend.broker import LocalBroker
from jiayi_backend.practice import Practice
from jiayi_backend.service import ReferenceBackend
from jiayi_backend.team import TeamStore, hash_password, verify_password

pytest.importorskip("flask", reason="the page needs the backend extra (pip install -e '.[backend]')")
from jiayi_backend.web.app import create_app

PASSWORD = "correct horse battery"


@dataclass
class Page:
    client: Any
    backend: ReferenceBackend
    relay: Any
    sink: Collector
    team: TeamStore

    def csrf(self, path: str = "/") -> str:
        html = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    broker: LocalBroker = start_broker(tmp_path / "broker", persistence=False)
    backend = ReferenceBackend(broker.url, tmp_path / "be.sqlite3")
    backend.start()
    practice = Practice(backend, "Dr. Chen")
    practice.team.add_member("chen", "Dr. Chen", PASSWORD)
    app = create_app(practice)
    relay, sink = start_relay(make_settings(broker.url, "dev-1"), tmp_path / "dev")
    yield Page(app.test_client(), backend, relay, sink, practice.team)
    relay.stop()
    backend.stop()
    broker.stop()


def _login(page: Page, password: str = PASSWORD) -> Any:
    return page.client.post("/login", data={"username": "chen", "password": password})


def test_login_is_required_and_audited(page: Page) -> None:
    assert page.client.get("/").status_code == 302
    assert page.client.get("/queue").status_code == 401
    assert _login(page, "wrong password").status_code == 401
    response = _login(page)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert page.client.get("/").status_code == 200
    actions = [(a.member, a.action, a.outcome) for a in page.team.audit_rows()]
    assert ("chen", "login_failed", "refused") in actions and ("chen", "login", "ok") in actions
    # A POST without the form's token does nothing.
    req = SendRequest("call_doctor", slots={"doctor": "Dr. Chen"})
    page.relay.submit(req)
    page.sink.wait_for(BackendAck)
    row = page.backend.store.rows()[0]
    assert page.client.post(f"/requests/{row['id']}/acknowledge", data={}).status_code == 400
    assert page.backend.store.get(row["id"]).state == "open"


def test_every_action_reaches_the_speaker_and_is_audited(page: Page) -> None:
    _login(page)
    req = SendRequest("book_appointment", slots={"doctor": "Dr. Chen"})
    page.relay.submit(req)
    page.sink.wait_for(BackendAck)
    rid = page.backend.store.rows()[0]["id"]
    html = page.client.get("/queue").get_data(as_text=True)
    assert "Appointment wanted" in html and "dev-1" in html
    token = page.csrf()

    page.client.post(f"/requests/{rid}/acknowledge", data={"csrf": token})
    ack = page.sink.wait_for(BackendAck, 2)[1]
    assert (ack.request_id, ack.status) == (req.request_id, "in_progress")
    assert ack.text == "Dr. Chen's team has seen your message and is taking care of it."

    page.client.post(f"/requests/{rid}/call-back", data={"csrf": token, "time": "15:30"})
    assert page.sink.wait_for(BackendSay)[0].text == "Dr. Chen will call you back at 3:30 PM."

    page.client.post(
        "/device/dev-1/message", data={"csrf": token, "template": "take_medicine", "medication": "amlodipine"}
    )
    assert page.sink.wait_for(BackendSay, 2)[1].text == "Please remember to take your amlodipine today."

    day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    page.client.post(
        "/device/dev-1/appointment", data={"csrf": token, "day": day, "time": "09:00", "request_id": str(rid)}
    )
    said = page.sink.wait_for(BackendSay, 3)[2].text
    assert said.startswith("Your appointment with Dr. Chen is on ") and said.endswith(" at 9:00 AM.")
    assert page.backend.store.get(rid).state == "closed"

    refused = page.client.post(f"/requests/{rid}/call-back", data={"csrf": token, "time": "25:99"})
    assert "HH:MM" in refused.headers["Location"].replace("%3A", ":")
    audit = [(a.action, a.outcome) for a in page.team.audit_rows("dev-1")]
    assert [a for a, o in audit if o == "sent"] == [
        "appointment",
        "message:take_medicine",
        "call_back",
        "acknowledge",
    ]
    assert audit[0][0] == "call_back" and audit[0][1].startswith("refused")
    timeline = page.client.get("/device/dev-1").get_data(as_text=True)
    assert "Dr. Chen will call you back at 3:30 PM." in timeline and "Appointment wanted" in timeline


def test_templates_spell_out_times_and_dates_and_refuse_bad_fields() -> None:
    assert spoken.spoken_time("08:05", "en") == "8:05 AM" and spoken.spoken_time("00:00", "en") == "12:00 AM"
    assert (
        spoken.spoken_time("15:30", "zh") == "下午3点30分" and spoken.spoken_time("09:00", "zh") == "上午9点"
    )
    today = dt.date(2026, 5, 4)
    assert spoken.spoken_day("2026-05-05", "en", today) == "Tuesday 5 May"
    assert spoken.spoken_day("2026-05-05", "zh", today) == "5月5日星期二"
    for bad in ("2026-05-03", "tomorrow"):
        with pytest.raises(spoken.TemplateError):
            spoken.spoken_day(bad, "en", today)
    text = spoken.render(spoken.MESSAGES["take_medicine"], "zh", medication="降压药")
    assert text == "请记得今天吃降压药。"
    for bad in ("aspirin\x1b[2J", "x" * 41, "", "<script>"):
        with pytest.raises(spoken.TemplateError):
            spoken.render(spoken.MESSAGES["take_medicine"], "en", medication=bad)


def test_members_passwords_are_scrypt_hashes_and_the_cli_adds_them(tmp_path: Path, capsys) -> None:
    stored = hash_password("a long password")
    assert stored.startswith("scrypt$") and "a long password" not in stored
    assert verify_password("a long password", stored) and not verify_password("another one", stored)
    secret = tmp_path / "pw"
    secret.write_text("nurse-password-1\n")
    db = str(tmp_path / "be.sqlite3")
    assert (
        cli.main(
            ["backend", "add-member", "li", "--name", "Nurse Li", "--password-file", str(secret), "--db", db]
        )
        == 0
    )
    assert (
        cli.main(
            ["backend", "add-member", "li", "--name", "Nurse Li", "--password-file", str(secret), "--db", db]
        )
        == 2
    )
    assert "already a member" in capsys.readouterr().err
    short = tmp_path / "short"
    short.write_text("short\n")
    assert (
        cli.main(["backend", "add-member", "wu", "--name", "Wu", "--password-file", str(short), "--db", db])
        == 2
    )
    from jiayi_backend.db import open_database

    database = open_database(db)
    team = TeamStore(database)
    assert team.authenticate("li", "nurse-password-1") is not None
    assert team.authenticate("li", "nope") is None
    database.close()
