"""Conversation: what the assistant says and does with an understood request.

``dialogue`` is the state machine (confirm, repeat, cancel, emergency window) that returns
``actions``; ``prompts`` holds what it says; ``care_store`` and ``reminders`` keep medicines and
check-ins; ``voice`` speaks (pyttsx3/espeak-ng or recorded prompts) through ``playback``; ``phone``
is the modem fallback (calls and SMS).
"""
