"""The doctor team's page: Flask, server-rendered HTML, one small script, no build step.

- ``/``: the live queue of open requests, emergencies on top (with a sound), then the oldest
  first. The script asks ``/queue?since=<token>`` every half second; the server answers 204 while
  nothing changed (one indexed query), else the new rows, so a request shows within a second of
  being stored, whichever worker stored it.
- ``/device/<id>``: the speaker's timeline (requests and what the team did) and its medication
  adherence over the last week, with the actions.
- Every POST needs a logged-in member and the session's CSRF token; every action is audited
  (:mod:`jiayi_backend.practice`). Cookies are HttpOnly and SameSite=Strict; the pages forbid
  framing and scripts from anywhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Any, Final

from flask import Flask, Response, abort, g, redirect, render_template, request, url_for

from assistant.link import protocol as messages
from jiayi_backend import spoken
from jiayi_backend.practice import ActionError, Done, Practice
from jiayi_backend.store import STATE_OPEN, StoredRequest

COOKIE: Final = "jiayi_session"
POLL_MS: Final = 500
TYPE_LABELS: Final = {
    messages.REQ_EMERGENCY: ("Emergency", "紧急"),
    messages.REQ_CALL_DOCTOR: ("Call the doctor", "找医生"),
    messages.REQ_CALL_CONTACT: ("Call a contact", "打给家人"),
    messages.REQ_REPORT_SYMPTOM: ("Symptom", "症状"),
    messages.REQ_BOOK_APPOINTMENT: ("Appointment wanted", "预约"),
    messages.REQ_MEDICATION_MISSED: ("Missed medicine", "漏服药"),
    messages.REQ_MEDICATION_TAKEN: ("Medicine taken", "已服药"),
    messages.REQ_REORDER_MEDICATION: ("Reorder medicine", "续药"),
    messages.REQ_CHECK_IN: ("Check-in", "报平安"),
    messages.REQ_INACTIVITY: ("No activity", "无活动"),
    messages.REQ_DAILY_SUMMARY: ("Daily summary (emergencies, false alarms)", "每日汇总（警报、误报）"),
}


def type_label(request_type: str) -> str:
    """What the team reads for a request type: the protocol's own in words, another command
    domain's plainly from its id ("unlock_door" → "Unlock door"; ids are ``[a-z0-9_]`` only)."""
    known = TYPE_LABELS.get(request_type)
    return known[0] if known else request_type.replace("_", " ").strip().capitalize()


def _csrf(token: str) -> str:
    return hmac.new(token.encode(), b"jiayi-csrf", hashlib.sha256).hexdigest()


def _clock(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%a %d %b %H:%M")


def _slots(req: StoredRequest) -> str:
    return ", ".join(f"{k}: {v}" for k, v in list(req.slots.items())[:6])


def create_app(practice: Practice) -> Flask:
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=16 * 1024, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.globals.update(
        clock=_clock,
        day=_day,
        slots=_slots,
        label=type_label,
        templates=spoken.MESSAGES,
        poll_ms=POLL_MS,
        STATE_OPEN=STATE_OPEN,
    )

    @app.before_request
    def load_member() -> Any:
        g.member = None
        token = request.cookies.get(COOKIE, "")
        if token:
            g.member = practice.team.session_member(token)
            g.csrf = _csrf(token)
        if request.endpoint in ("login", "static"):
            return None
        if g.member is None:
            if request.endpoint == "queue_rows":
                return Response("log in again", 401)
            return redirect(url_for("login"))
        if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), g.csrf):
            abort(400, "the form is out of date; reload the page")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; media-src 'self' data:;"
            " frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return render_template("login.html", error="")
        member = practice.team.authenticate(
            request.form.get("username", ""), request.form.get("password", "")
        )
        if member is None:
            return render_template("login.html", error="Wrong name or password."), 401
        response = redirect(url_for("queue"))
        response.set_cookie(
            COOKIE,
            practice.team.start_session(member),
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
            max_age=12 * 3600,
        )
        return response

    @app.post("/logout")
    def logout() -> Any:
        practice.team.end_session(request.cookies.get(COOKIE, ""))
        practice.team.audit(g.member.username, "logout", outcome="ok")
        response = redirect(url_for("login"))
        response.delete_cookie(COOKIE)
        return response

    @app.get("/")
    def queue() -> Any:
        return render_template(
            "queue.html",
            rows=practice.store.queue(),
            token=practice.store.change_token(),
            devices=practice.store.devices(),
            now=time.time(),
            flash=request.args.get("flash", ""),
            error=request.args.get("error", ""),
        )

    @app.get("/queue")
    def queue_rows() -> Any:
        token = practice.store.change_token()
        if request.args.get("since") == token:
            return Response(status=204)
        response = Response(
            render_template(
                "_queue.html", rows=practice.store.queue(), devices=practice.store.devices(), now=time.time()
            )
        )
        response.headers["X-Queue-Token"] = token
        return response

    @app.get("/device/<device_id>")
    def device(device_id: str) -> Any:
        if not messages.DEVICE_ID_RE.fullmatch(device_id):
            abort(404)
        requests = practice.store.for_device(device_id)
        actions = practice.team.audit_rows(device_id)
        timeline = sorted(
            [("request", r.received_at, r) for r in requests] + [("action", a.at, a) for a in actions],
            key=lambda item: item[1],
            reverse=True,
        )
        return render_template(
            "device.html",
            device_id=device_id,
            timeline=timeline,
            adherence=practice.store.adherence(device_id),
            medications=practice.medications(device_id),
            lang=practice.device_lang(device_id),
            open_requests=[r for r in requests if r.state in ("open", "acknowledged")],
            today=dt.date.today().isoformat(),
            flash=request.args.get("flash", ""),
            error=request.args.get("error", ""),
        )

    def _after(action: Any, back: str) -> Any:
        try:
            done: Done = action()
        except ActionError as err:
            args = request.view_args or {}
            practice.refused(
                g.member,
                request.endpoint or "action",
                err,
                str(args.get("device_id", "")),
                args.get("request_id"),
            )
            return redirect(f"{back}?error={_q(str(err))}", 303)
        return redirect(
            f"{back}?flash={_q(done.message + (' “' + done.spoken + '”' if done.spoken else ''))}", 303
        )

    def _back() -> str:
        target = request.form.get("back", "/")
        return target if target.startswith("/") and not target.startswith("//") else "/"

    def _int(name: str) -> int | None:
        value = request.form.get(name, "")
        return int(value) if value.isdigit() else None

    @app.post("/requests/<int:request_id>/acknowledge")
    def acknowledge(request_id: int) -> Any:
        return _after(lambda: practice.acknowledge(g.member, request_id), _back())

    @app.post("/requests/<int:request_id>/call-back")
    def call_back(request_id: int) -> Any:
        return _after(lambda: practice.call_back(g.member, request_id, request.form.get("time", "")), _back())

    @app.post("/requests/<int:request_id>/resolve")
    def resolve(request_id: int) -> Any:
        return _after(lambda: practice.resolve(g.member, request_id), _back())

    @app.post("/device/<device_id>/message")
    def message(device_id: str) -> Any:
        return _after(
            lambda: practice.send_message(
                g.member,
                device_id,
                request.form.get("template", ""),
                request.form.get("medication", ""),
                _int("request_id"),
            ),
            _back(),
        )

    @app.post("/device/<device_id>/appointment")
    def appointment(device_id: str) -> Any:
        return _after(
            lambda: practice.book_appointment(
                g.member,
                device_id,
                request.form.get("day", ""),
                request.form.get("time", ""),
                _int("request_id"),
            ),
            _back(),
        )

    return app


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300])
