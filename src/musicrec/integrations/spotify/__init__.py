"""Spotify: the accounts service (OAuth) and the Web API, thin clients with configurable base
URLs. Nothing here knows the web layer, the services or the database."""
