"""Jiayi (家医): an offline, voice-first family-doctor assistant for smart speakers."""

__version__ = "0.1.0"
