"""How deal ids and amounts are written, in Slack and on the command line."""


def format_deal_id(n: int) -> str:
    return f"deal-{n}"


def format_amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole:,}" + (f".{fraction:02d}" if fraction else "")
