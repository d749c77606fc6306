"""The speech worker's child process: ``python -m assistant.conversation.tts_child FD``.

``FD`` is one end of a socket pair (a :class:`multiprocessing.connection.Connection`); the parent
(:class:`assistant.conversation.voice.SynthesisWorker`) sends its import path, then the synthesis
and warm-up functions, then one request at a time. pyttsx3 runs here, so a hang in it costs a
restart of this process, not the daemon.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from assistant.conversation.voice import serve_worker

if __name__ == "__main__":
    serve_worker(Connection(int(sys.argv[1])))
