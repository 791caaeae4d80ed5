"""Resident and public pages of residents' voice (thin: parse, call a service or selector, render)."""
