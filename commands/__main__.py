"""`python -m commands`: the same command line as the `salesbot` console script (see commands/cli.py).

Its messages and examples name `python -m commands`, the command the user typed.
"""

from collections.abc import Sequence

from commands import cli

PROG = "python -m commands"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command of `python -m commands ARGV`; its exit code."""
    return cli.main(argv, prog=PROG)


if __name__ == "__main__":
    raise SystemExit(main())
