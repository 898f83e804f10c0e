"""What Slack sent us once: replayed commands, clicks and redelivered events are recognised and acted on once."""
