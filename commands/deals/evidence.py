"""Evidence of the buyer's action: a link, with the label the rep gave it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    url: str
    label: str | None = None
