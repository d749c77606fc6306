"""``jiayi backend``: run the practice's backend, list what it stored, manage the team, send commands.

jiayi backend [run] [--url URL] [--db PATH|postgresql://...] [--workers N] [--worker-id ID]
                    [--username U --password-file F] [--tls-ca F --tls-cert F --tls-key F]
                    [--web HOST:PORT] [--nobody-answers-emergencies]
jiayi backend requests [--json] [--db ...]
jiayi backend add-member USERNAME --name "Dr. Chen" [--password-file F] [--db ...]
jiayi backend say --device ID [--url URL] [--expires-in S] "text"
jiayi backend access FILE add-device ID|add-worker ID|remove ID|list [--password-file F]

Every option also reads ``JIAYI_BACKEND_<OPTION>`` (see docs/operations.md).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Final

WAIT_S: Final = 1.0


def _add(parser: argparse.ArgumentParser, suppress: bool, *flags: str, **kwargs: Any) -> None:
    """Options exist on ``backend`` and on its actions; on an action they must not reset a value."""
    if suppress:
        kwargs["default"] = argparse.SUPPRESS
    parser.add_argument(*flags, **kwargs)


def _connection(parser: argparse.ArgumentParser, suppress: bool) -> None:
    _add(parser, suppress, "--url", help="broker URL (default $JIAYI_BACKEND_URL or mqtt://127.0.0.1:1883)")
    _add(parser, suppress, "--username", help="broker user name of this worker")
    _add(parser, suppress, "--password-file", help="file holding the broker password")
    _add(parser, suppress, "--tls-ca", help="CA certificate of the broker (mqtts://)")
    _add(parser, suppress, "--tls-cert", help="client certificate (mutual TLS)")
    _add(parser, suppress, "--tls-key", help="private key of --tls-cert")


def _db_option(parser: argparse.ArgumentParser, suppress: bool) -> None:
    _add(
        parser,
        suppress,
        "--db",
        help="request store: SQLite file (default <state dir>/backend.sqlite3) or postgresql:// URL",
    )


def _run_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    _connection(parser, suppress)
    _db_option(parser, suppress)
    _add(parser, suppress, "--workers", type=int, help="MQTT workers in this process (default 1)")
    _add(parser, suppress, "--worker-id", help="stable id of this worker (default <host>-<pid>)")
    _add(parser, suppress, "--web", help="serve the doctor team's page on HOST:PORT")
    _add(parser, suppress, "--doctor-name", help="how spoken answers name the doctor")
    _add(
        parser,
        suppress,
        "--nobody-answers-emergencies",
        action="store_true",
        help="demo/test mode: answer emergencies with nobody_answered (device starts the phone fallback)",
    )


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backend",
        help="the practice's backend (run, requests, add-member, say)",
        description="The practice's backend: stores each device request once, acknowledges it, and "
        "serves the doctor team's page.",
    )
    _run_options(parser, suppress=False)
    parser.set_defaults(func=run_backend)
    actions = parser.add_subparsers(dest="backend_action", metavar="ACTION")

    run = actions.add_parser("run", help="serve until stopped (the default)")
    _run_options(run, suppress=True)
    run.set_defaults(func=run_backend)

    requests = actions.add_parser("requests", help="list the stored requests")
    _db_option(requests, suppress=True)
    requests.add_argument("--json", action="store_true", help="print a JSON array")
    requests.set_defaults(func=list_requests)

    member = actions.add_parser("add-member", help="add a team member who can log in to the page")
    _db_option(member, suppress=True)
    member.add_argument("username")
    member.add_argument("--name", required=True, help="name shown on the page and in the audit trail")
    member.add_argument("--password-file", help="file holding the password (default: ask, or read stdin)")
    member.set_defaults(func=add_member)

    say = actions.add_parser("say", help="ask a device to speak a message")
    _connection(say, suppress=True)
    say.add_argument("--device", required=True, help="device id")
    say.add_argument("--expires-in", type=int, default=600, help="drop it if not delivered within S seconds")
    say.add_argument("--lang", default="", choices=["", "en", "zh"])
    say.add_argument("text")
    say.set_defaults(func=say_to_device)

    access = actions.add_parser(
        "access",
        help="who may do what on a locked-down broker (docs/mosquitto/)",
        description="Edit mosquitto's dynamic-security file: each speaker only its own topics, each "
        "backend worker its own identity in the share group. Edit with the broker stopped (or use "
        "mosquitto_ctrl on a running one).",
    )
    access.add_argument("file", help="the plugin's file, e.g. /var/lib/mosquitto/dynamic-security.json")
    access.add_argument("what", choices=["add-device", "add-worker", "remove", "list"])
    access.add_argument("identity", nargs="?", default="", help="device id, or jiayi-backend-<worker>")
    access.add_argument(
        "--password-file", help="password login (first line of the file); without it: certificate login"
    )
    access.set_defaults(func=edit_access)


def _settings(args: argparse.Namespace):
    from assistant.cli import UserError
    from jiayi_backend.settings import SettingsError, load

    try:
        return load(vars(args))
    except SettingsError as err:
        raise UserError(str(err)) from None


def _db(settings) -> str:
    from assistant.ops.paths import state_dir
    from jiayi_backend.settings import DB_FILE

    if settings.db:
        return settings.db if "://" in settings.db else str(Path(settings.db).expanduser())
    return str(state_dir() / DB_FILE)


def _open_store(settings, must_exist: bool = True):
    from assistant.cli import UserError
    from jiayi_backend.db import DatabaseError, is_postgres
    from jiayi_backend.store import RequestStore

    target = _db(settings)
    if must_exist and not is_postgres(target) and not Path(target).exists():
        raise UserError(f"no request store at {target} (run `jiayi backend run` first or pass --db)")
    try:
        return RequestStore(target)
    except DatabaseError as err:
        raise UserError(str(err)) from None


def run_backend(args: argparse.Namespace) -> int:
    from assistant.cli import UserError
    from jiayi_backend.db import DatabaseError
    from jiayi_backend.service import DemoPolicy, ReferenceBackend

    settings = _settings(args)
    policy = DemoPolicy(
        nobody_answers_emergencies=settings.nobody_answers_emergencies, doctor_name=settings.doctor_name
    )
    try:
        backend = ReferenceBackend(
            settings.url,
            _db(settings),
            workers=settings.workers,
            worker_id=settings.worker_id or None,
            policy=policy,
            username=settings.username,
            password=settings.password(),
            tls_ca=settings.tls_ca,
            tls_cert=settings.tls_cert,
            tls_key=settings.tls_key,
        )
    except DatabaseError as err:
        raise UserError(str(err)) from None
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    page = None
    try:
        try:
            backend.start()
        except TimeoutError as err:
            backend.stop()
            raise UserError(f"cannot work with the MQTT broker at {settings.url}: {err}") from None
        address = settings.web_address()
        if address:
            page = _start_page(backend, settings, address)
        where = f" web=http://{address[0]}:{page.port}" if page and address else ""
        print(
            f"backend ready: {settings.url} workers={len(backend.workers)} db={backend.database.where}{where}",
            flush=True,
        )
        while not stop.wait(WAIT_S):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    if page is not None:
        page.stop()
    backend.stop()
    return 0


def _start_page(backend, settings, address: tuple[str, int]):
    from assistant.cli import UserError

    try:
        from jiayi_backend.web import PageServer
    except ImportError as err:
        backend.stop()
        raise UserError(f"the page needs the backend extra: pip install 'jiayi[backend]' ({err})") from None
    try:
        return PageServer.start(backend, address, doctor_name=settings.doctor_name)
    except OSError as err:
        backend.stop()
        raise UserError(f"--web {settings.web}: cannot listen there ({err.strerror or err})") from None


def list_requests(args: argparse.Namespace) -> int:
    store = _open_store(_settings(args))
    try:
        rows = store.rows()
    finally:
        store.close()
    if getattr(args, "json", False):
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no requests stored")
    for row in rows:
        slots = row["payload"].get("slots")
        shown = ", ".join(f"{k}={v}" for k, v in slots.items()) if isinstance(slots, dict) else ""
        print(f"{row['sent_at']}  {row['device_id']:<16} {row['request_type']:<20} {row['tier']:<9} {shown}")
    return 0


def _read_password(path: str | None) -> str:
    from assistant.cli import UserError

    if path:
        try:
            return Path(path).expanduser().read_text("utf-8").splitlines()[0]
        except (OSError, UnicodeDecodeError, IndexError) as err:
            raise UserError(f"--password-file {path}: cannot read a password from it ({err})") from None
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UserError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def add_member(args: argparse.Namespace) -> int:
    from assistant.cli import UserError
    from jiayi_backend.team import TeamError, TeamStore

    store = _open_store(_settings(args), must_exist=False)
    try:
        TeamStore(store.db).add_member(args.username, args.name, _read_password(args.password_file))
    except TeamError as err:
        raise UserError(str(err)) from None
    finally:
        store.close()
    print(f"added {args.username} ({args.name})")
    return 0


def say_to_device(args: argparse.Namespace) -> int:
    from assistant.cli import UserError
    from jiayi_backend.service import BrokerLogin, publish_command, say_command

    settings = _settings(args)
    login = BrokerLogin(
        settings.username, settings.password(), settings.tls_ca, settings.tls_cert, settings.tls_key
    )
    try:
        command = say_command(args.device, args.text, args.expires_in, args.lang)
        publish_command(settings.url, command, args.expires_in, login)
    except (OSError, TimeoutError, ValueError) as err:
        raise UserError(f"could not send the message: {err}") from None
    print(f"sent {command.message_id} to {args.device}")
    return 0


def edit_access(args: argparse.Namespace) -> int:
    from assistant.cli import UserError
    from jiayi_backend.broker_access import AccessError, AccessFile

    try:
        access = AccessFile(Path(args.file))
        if args.what == "list":
            print("\n".join(access.usernames()) or "no identities")
            return 0
        if not args.identity:
            raise UserError(f"{args.what} needs an identity")
        password = _read_password(args.password_file) if args.password_file else None
        if args.what == "add-device":
            access.add_device(args.identity, password)
        elif args.what == "add-worker":
            access.add_worker(args.identity, password)
        elif not access.remove(args.identity):
            raise UserError(f"{args.identity} is not in {args.file}")
        access.save()
    except (AccessError, OSError) as err:
        raise UserError(str(err)) from None
    login = "password" if args.password_file else "certificate"
    print(f"{args.what} {args.identity} ({login} login) in {args.file}; restart mosquitto to apply")
    return 0
