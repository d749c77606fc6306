"""One acoustic scoring pass for two searches of the same utterance (pocketsphinx 5).

The command search (catalog grammar) and the second opinion (language model) decode the same
audio one after the other, and each scores the acoustic model's Gaussians on every frame: about
half of a decode's CPU (docs/benchmarks/speech.md, round 15). pocketsphinx can write the senone
scores of a decode to a file and decode another search from such a file instead of from audio
(``acmod_set_senfh`` / ``ps_decode_senscr``, used by its own tools), but its Python bindings do not
offer either. This module reaches them through ctypes on the bindings' own extension module, which
exports the library's C functions:

* the first decode runs with ``compallsen`` (every senone scored, not only the search's active
  ones) and writes each frame's scores to a temporary file;
* the second search is decoded from those scores (``ps_decode_senscr``): no features and no
  Gaussians computed again. pocketsphinx reads such scores in order only, so that search must
  not look ahead with its phone loop (``pl_window`` 0 when it is activated).

The decoder's C pointer is read from the bindings' ``Decoder`` object and checked before use (the
configuration it points to must be the one the bindings' ``Config`` object holds, and the
acoustic model must point to the decoder's own configuration, log tables, front end and feature
computer); when any check fails, or the library lacks a function, :func:`attach` returns None and
the recognizer decodes as before. Scores of a whole-utterance decode only (batch CMN).
"""

from __future__ import annotations

import ctypes
import logging
import os
import tempfile
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)

FRAME_SAMPLES: Final = 160
"""Samples per frame at 16 kHz and pocketsphinx's 100 frames a second."""
FRAME_MARGIN: Final = 16
"""Frames allowed beyond the audio's length when sizing the score buffer's frame index."""


def _extension() -> ctypes.CDLL | None:
    import pocketsphinx

    folder = os.path.dirname(pocketsphinx.__file__)
    for name in sorted(os.listdir(folder)):
        if name.startswith("_pocketsphinx") and name.endswith(".so"):
            return ctypes.CDLL(os.path.join(folder, name))
    return None


_FUNCTIONS: Final = {
    "ps_get_config": ([ctypes.c_void_p], ctypes.c_void_p),
    "ps_get_logmath": ([ctypes.c_void_p], ctypes.c_void_p),
    "ps_get_fe": ([ctypes.c_void_p], ctypes.c_void_p),
    "ps_get_feat": ([ctypes.c_void_p], ctypes.c_void_p),
    "ps_decode_senscr": ([ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int),
    "acmod_set_senfh": ([ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int),
    "acmod_set_insenfh": ([ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int),
    "acmod_grow_feat_buf": ([ctypes.c_void_p, ctypes.c_int], None),
}


class SharedScores:
    """Write one decode's senone scores; decode another search from them.

    The scores go through an unlinked temporary file (``tempfile.TemporaryFile``: the page cache,
    about 1 MB per second of speech, emptied after the second decode), not the recognizer's heap:
    an in-memory stream would add up to 12 MB to its peak for a 12 s utterance (the 120 MB
    memory target)."""

    def __init__(self, decoder: Any, lib: ctypes.CDLL, libc: ctypes.CDLL, ps: int, acmod: int) -> None:
        self._decoder = decoder  # keeps the C decoder alive while this holds its pointers
        self._lib = lib
        self._libc = libc
        self._ps = ps
        self._acmod = acmod
        self._file: Any = None
        self._writing = False
        self.frames = 0
        """Frames of scores written by the last decode (0 = none ready)."""

    def _compute_all(self, on: bool) -> None:
        """``compallsen``: the acoustic model reads it from the configuration when its score input
        is reset (``acmod_set_insenfh(acmod, NULL)``, as ``ps_decode_senscr`` itself does)."""
        self._decoder.config["compallsen"] = on
        self._lib.acmod_set_insenfh(self._acmod, None)

    def _stream(self, mode: bytes) -> int:
        """A C stream on a duplicate of the temporary file's descriptor, from its start."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="jiayi-scores-")
        fd = os.dup(self._file.fileno())
        os.lseek(fd, 0, os.SEEK_SET)
        stream = self._libc.fdopen(fd, mode)
        if not stream:
            os.close(fd)
            raise OSError("fdopen failed")
        return int(stream)

    def start_writing(self) -> None:
        """Before ``start_utt`` of the first decode: score every senone and write them."""
        self.discard()
        stream = self._stream(b"wb")
        self._compute_all(True)
        self._lib.acmod_set_senfh(self._acmod, stream)  # the acoustic model's now: end_utt closes it
        self._writing = True

    def stop_writing(self, frames: int) -> None:
        """After ``end_utt`` of the first decode: back to scoring the active senones only;
        ``frames`` is that decode's frame count (0 = the decode failed, nothing to read)."""
        if self._writing:
            self._lib.acmod_set_senfh(self._acmod, None)  # closes the stream if end_utt did not
            self._compute_all(False)
            self._writing = False
            self.frames = frames

    def decode(self, audio_bytes: int) -> int:
        """Decode the active search from the scores written (``start_utt`` … ``end_utt`` done
        here, by ``ps_decode_senscr``); its frame count, or -1 when there were none."""
        if not self.frames:
            return -1
        frames = max(self.frames, audio_bytes // (2 * FRAME_SAMPLES)) + FRAME_MARGIN
        # the frame index (framepos) must cover the utterance: whole-utterance decodes resize the
        # feature buffer without it, so size both here
        self._lib.acmod_grow_feat_buf(self._acmod, frames)
        stream = self._stream(b"rb")
        try:
            return int(self._lib.ps_decode_senscr(self._ps, stream))
        finally:
            self._libc.fclose(stream)
            self.discard()

    def discard(self) -> None:
        """Forget the scores written (the file is emptied)."""
        if self._writing:
            self.stop_writing(0)
        if self._file is not None:
            os.ftruncate(self._file.fileno(), 0)
        self.frames = 0

    def close(self) -> None:
        self.discard()
        if self._file is not None:
            self._file.close()
            self._file = None


def _word(address: int) -> int:
    return ctypes.c_void_p.from_address(address).value or 0


def attach(decoder: Any) -> SharedScores | None:
    """Shared scoring for ``decoder`` (a ``pocketsphinx.Decoder``), or None where it cannot be
    done safely (another bindings layout, a library without the functions)."""
    import pocketsphinx

    if not isinstance(decoder, pocketsphinx.Decoder):
        return None
    try:
        lib = _extension()
        if lib is None:
            return None
        for name, (argtypes, restype) in _FUNCTIONS.items():
            function = getattr(lib, name)
            function.argtypes = argtypes
            function.restype = restype
        libc = ctypes.CDLL(None)
        libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
        libc.fdopen.restype = ctypes.c_void_p
        libc.fclose.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError) as err:
        _LOGGER.info("shared scoring unavailable: %s", err)
        return None
    # bindings objects: PyObject head (16 bytes), then the C pointer (Decoder) or the vtable and
    # the C pointer (Config); both read and cross-checked before anything is called on them
    ps = _word(id(decoder) + 16)
    config_object = decoder.config
    config = _word(id(config_object) + 24)
    if not ps or not config or lib.ps_get_config(ps) != config:
        _LOGGER.info("shared scoring unavailable: unexpected pocketsphinx bindings layout")
        return None
    acmod = _word(ps + 16)  # ps_decoder_t: config, refcount, acmod
    expected = (config, lib.ps_get_logmath(ps), None, lib.ps_get_fe(ps), lib.ps_get_feat(ps))
    # acmod_t: config, lmath, strings, fe, fcb
    if not acmod or any(want is not None and _word(acmod + 8 * i) != want for i, want in enumerate(expected)):
        _LOGGER.info("shared scoring unavailable: unexpected pocketsphinx decoder layout")
        return None
    return SharedScores(decoder, lib, libc, ps, acmod)
