"""Typed models and query functions; every function takes its session explicitly."""
