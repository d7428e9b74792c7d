"""Use cases that join the database, the engine and the integrations."""
