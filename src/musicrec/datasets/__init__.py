"""Readers for listening-history datasets (no database, no web)."""

from musicrec.datasets.lastfm_hetrec import DatasetError, ListeningData, load_lastfm

__all__ = ["DatasetError", "ListeningData", "load_lastfm"]
