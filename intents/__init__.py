"""Package data (see assistant.data): not code."""
