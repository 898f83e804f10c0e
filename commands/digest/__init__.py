"""The digest: its numbers and their estimators, its text, and the schedules that post it."""
