"""The isolated recognizer's child process: ``python -m assistant.hearing.recognizer_child FD``.

``FD`` is one end of a socket pair whose other end is a :class:`multiprocessing.connection.Connection`
in the parent (:class:`assistant.hearing.recognizer.IsolatedRecognizer`); it sends the engine spec
first, then begin / audio / ahead / finish / close messages. The engine's native code runs here, so
a crash or a hang in it costs a restart of this process, not the daemon.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import Any

from assistant.hearing.recognizer import serve_child


class ChildEnd:
    """This process's end of the socket pair, speaking what ``multiprocessing.connection.Connection``
    speaks (a 4-byte big-endian signed length, -1 then an 8-byte one for more than 2 GiB, then the
    pickle; EOFError at the end), without importing ``multiprocessing`` and ``socket`` (1.3 MB of
    the recognizer's resident memory; docs/benchmarks/speech.md, Memory)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, obj: Any) -> None:
        data = pickle.dumps(obj)
        size = len(data)
        header = struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)
        view = memoryview(header + data)
        while view:
            view = view[os.write(self._fd, view) :]

    def recv(self) -> Any:
        (size,) = struct.unpack("!i", self._read(4))
        if size == -1:
            (size,) = struct.unpack("!Q", self._read(8))
        return pickle.loads(self._read(size))

    def _read(self, size: int) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining > 0:
            chunk = os.read(self._fd, remaining)
            if not chunk:
                if remaining == size:
                    raise EOFError
                raise OSError("got end of file during message")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


if __name__ == "__main__":
    serve_child(ChildEnd(int(sys.argv[1])))
