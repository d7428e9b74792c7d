"""Thin clients of outside services (Last.fm, Spotify): no web, services or database code."""
