"""Robusta (webhook sink, format: json)."""
