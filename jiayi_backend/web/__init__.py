"""The doctor team's page, served by a backend process (``jiayi backend run --web HOST:PORT``).

waitress serves the Flask app (:mod:`jiayi_backend.web.app`) from a thread of the backend
process, so the page's actions go out through that process's own MQTT workers. Any number of
processes may serve the page: sessions, queue and audit trail are in the shared store.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Final

from jiayi_backend.practice import Practice
from jiayi_backend.service import ReferenceBackend

_LOGGER = logging.getLogger(__name__)

THREADS: Final = 8
STOP_TIMEOUT_S: Final = 5.0


@dataclass
class PageServer:
    server: Any
    thread: threading.Thread
    practice: Practice

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @classmethod
    def start(
        cls, backend: ReferenceBackend, address: tuple[str, int], doctor_name: str = "your doctor"
    ) -> PageServer:
        """Listen on ``address`` (port 0: any free port) and serve in a daemon thread. OSError if
        the address cannot be used."""
        from waitress.server import create_server

        from jiayi_backend.web.app import create_app

        practice = Practice(backend, doctor_name)
        server = create_server(
            create_app(practice), host=address[0], port=address[1], threads=THREADS, ident="jiayi"
        )
        thread = threading.Thread(target=server.run, name="jiayi-page", daemon=True)
        thread.start()
        _LOGGER.info("event=page_start address=%s:%d", address[0], server.effective_port)
        return cls(server, thread, practice)

    def stop(self) -> None:
        self.server.close()
        for channel in list(self.server._map.values()):  # open browser connections end the loop too
            channel.close()
        self.thread.join(STOP_TIMEOUT_S)
        self.server.task_dispatcher.shutdown()
