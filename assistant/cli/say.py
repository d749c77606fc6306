"""``jiayi say "text"``: speak with the configured voice (to the speaker, or to a WAV file)."""

from __future__ import annotations

import argparse
import logging

from assistant.cli import UserError, settings_from_args
from assistant.conversation.actions import Say

_LOGGER = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("say", help="speak a sentence with the configured voice")
    p.add_argument("text", help="what to say")
    p.add_argument("--lang", choices=("en", "zh"), help="language (default: the person's language)")
    p.add_argument("--prompt", default="", help="recorded prompt id to play instead, when it exists")
    p.add_argument("--wav", metavar="OUT", help="write the speech to this WAV file instead of playing it")
    p.add_argument(
        "--config", help="config file (default: $JIAYI_CONFIG, ./config.yaml, /etc/jiayi/config.yaml)"
    )
    p.set_defaults(func=cmd_say)


def cmd_say(args: argparse.Namespace) -> int:
    from assistant.conversation.playback import NullSink, SinkUnavailable, open_sink, scale_pcm, write_wav
    from assistant.conversation.voice import Speaker

    if not args.text.strip():
        raise UserError('nothing to say: give the sentence in quotes, e.g. jiayi say "Good morning"')
    settings = settings_from_args(args)
    say = Say(args.text, args.prompt, args.lang or settings.language)
    if args.wav:
        speaker = Speaker.from_settings(settings, NullSink())
        try:
            rendered = speaker.render(say)
            try:
                out = write_wav(args.wav, scale_pcm(rendered.pcm, speaker.volume))
            except OSError as err:
                raise UserError(f"can't write {args.wav}: {err.strerror or err}") from None
        finally:
            speaker.close()
        print(f"{out} ({rendered.pcm.duration_s:.1f} s, {rendered.source})")
        return 0
    try:
        sink = open_sink(settings.audio)
    except SinkUnavailable as err:
        raise UserError(f"{err}. Use --wav OUT.wav to write the speech to a file instead.") from None
    speaker = Speaker.from_settings(settings, sink)
    try:
        spoken = speaker.say(say)
    except SinkUnavailable as err:
        raise UserError(f"{err}. Use --wav OUT.wav to write the speech to a file instead.") from None
    finally:
        speaker.close()
        sink.stop()
    return 0 if spoken.completed else 1
