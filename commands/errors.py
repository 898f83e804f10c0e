"""The one error type whose message a Slack user may see."""


class CommandError(Exception):
    """A refusal the user can act on: what was wrong, and (optionally) the right usage.

    `message` and `usage` are plain text as the user should read it; renderers escape them.
    """

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
