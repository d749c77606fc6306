"""The isolated recognizer's child process: ``python -m assistant.hearing.recognizer_child FD``.

``FD`` is one end of a socket pair (a :class:`multiprocessing.connection.Connection`); the parent
(:class:`assistant.hearing.recognizer.IsolatedRecognizer`) sends the engine spec first, then
begin / audio / ahead / finish / close messages. The engine's native code runs here, so a crash
or a hang in it costs a restart of this process, not the daemon.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from assistant.hearing.recognizer import serve_child

if __name__ == "__main__":
    serve_child(Connection(int(sys.argv[1])))
