"""Link: the device's side of the MQTT 5 protocol to the family-doctor backend.

``protocol`` defines the messages and their JSON Schemas (shared with the backend package);
``outbox`` is the durable SQLite queue; ``relay`` sends, resends and receives acknowledgements.
"""
