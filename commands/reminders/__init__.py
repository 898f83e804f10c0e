"""Reminders of pending moves and nudges of stalled deals: when they are due, and owing them to deal threads."""
