"""The family-doctor practice's side: the reference backend that receives requests from speakers.

Not device code: it imports only the shared wire protocol (``assistant.link.protocol``).
``service`` receives, deduplicates and acknowledges requests; ``broker`` starts a private mosquitto
for ``make run`` and the tests.
"""
