"""Hearing: sound in, words out.

audio sources (``sources``) → endpointing (``endpointing``) → recognizers (``recognizer`` with the
``pocketsphinx_engine`` and ``vosk_engine``), whose grammars and language models are compiled from the
catalog (``grammar``, ``langmodel``); ``vosk_models`` installs and verifies vosk models; ``listener``
runs the whole stage on a thread and reports heard utterances.
"""
