"""Ops: running unattended for years.

``settings`` (frozen dataclasses) built once by ``config`` from the caregiver's YAML; ``paths`` (state
directory); ``clock``; ``status`` and ``watchdog`` (systemd); ``logs`` (content-free logging);
``device_profiles`` (microphone/speaker hardware).
"""
