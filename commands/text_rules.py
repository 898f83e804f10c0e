"""What user text may hold before it is stored: its limits, the characters refused, and the cleaning.

Every entry point (slash text, modal input, button values) goes through these, so a limit or a rule is
the same wherever the text comes from. Messages are plain text; renderers escape them.

- Control characters other than tabs and line breaks (NUL among them) and unpaired surrogates are refused:
  the databases cannot store them (PostgreSQL refuses NUL, UTF-8 has no surrogates) and no one types them.
- Format characters (Unicode category Cf: bidi overrides and isolates, zero-width spaces, the BOM, soft
  hyphens, invisible operators) are removed, so they cannot reorder or hide what a text seems to say. A
  zero-width joiner or non-joiner between two characters stays: emoji and Persian or Indic words need it.
- Characters that look like a blank (Hangul fillers, the blank braille pattern) count as spaces, and runs of
  whitespace become one space; a text with nothing visible left is empty.
"""

import re
import unicodedata
from urllib.parse import urlsplit

from commands.errors import CommandError
from commands.i18n.translator import Text, tr, tr_n

# --- Limits (documented in the README's "Input limits" table) ---------------------------------------------

NAME_LIMIT = 200
COMPANY_LIMIT = 200
NOTE_LIMIT = 1_000
REASON_LIMIT = 1_000
EVIDENCE_COUNT_LIMIT = 10
URL_LIMIT = 2_000
LABEL_LIMIT = 2_000
COMMAND_TEXT_LIMIT = 50_000  # comfortably above the longest valid command (10 links with labels, a note)

# --- Characters refused --------------------------------------------------------------------------------


def unstorable_character(text: str) -> str | None:
    """The first character that cannot be stored (a control character or an unpaired surrogate), else None."""
    for ch in text:
        category = unicodedata.category(ch)
        if (category == "Cc" and not ch.isspace()) or category == "Cs":
            return ch
    return None


def describe_character(ch: str) -> str:
    """The character in English, for an operator (a file's problems); a Slack user gets `unstorable_refusal`."""
    code = f"U+{ord(ch):04X}"
    if ch == "\x00":
        return f"a NUL character ({code})"
    if unicodedata.category(ch) == "Cs":
        return f"a broken character (an unpaired surrogate, {code})"
    return f"a control character ({code})"


def unstorable_refusal(ch: str, what: str | Text) -> Text:
    """The refusal of a text holding `ch`, which cannot be stored; `what` names the text (`tr("The reason")`)."""
    code = f"U+{ord(ch):04X}"
    if ch == "\x00":
        # TRANSLATORS: {what} names the text typed, like "The reason" or "The deal's name"; {code} is like U+0000.
        return tr(
            "{what} has a NUL character ({code}), which can't be stored. Type it again without it.",
            what=what,
            code=code,
        )
    if unicodedata.category(ch) == "Cs":
        # TRANSLATORS: {what} names the text typed, like "The reason"; {code} is like U+D800.
        return tr(
            "{what} has a broken character (an unpaired surrogate, {code}), which can't be stored. "
            "Type it again without it.",
            what=what,
            code=code,
        )
    # TRANSLATORS: {what} names the text typed, like "The reason"; {code} is like U+0007.
    return tr(
        "{what} has a control character ({code}), which can't be stored. Type it again without it.",
        what=what,
        code=code,
    )


def refuse_unstorable(text: str, what: str | Text, usage: str | Text | None = None) -> None:
    """Refuse `text` if it holds a character that cannot be stored; `what` names it (`tr("The reason")`)."""
    ch = unstorable_character(text)
    if ch is not None:
        raise CommandError(unstorable_refusal(ch, what), usage)


# --- Cleaning ------------------------------------------------------------------------------------------

_JOINERS = frozenset({"\u200c", "\u200d"})  # zero-width non-joiner and joiner
_BLANK_LOOKING = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})
_VISIBLE_CATEGORIES = frozenset("LNPS")


def remove_invisible(text: str) -> str:
    """Drop format characters (bidi controls, zero-width spaces…), keeping a joiner between two characters;
    blank-looking letters become spaces. Line breaks stay: this is for text as well as for single lines."""
    text = "".join(" " if ch in _BLANK_LOOKING else ch for ch in text)
    return "".join(ch for index, ch in enumerate(text) if _kept(text, index))


def _kept(text: str, index: int) -> bool:
    ch = text[index]
    if unicodedata.category(ch) != "Cf":
        return True
    return ch in _JOINERS and 0 < index < len(text) - 1 and _joinable(text[index - 1]) and _joinable(text[index + 1])


def _joinable(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) != "Cf"


def clean_text(text: str) -> str:
    """One line of user text as stored: invisible characters removed, whitespace collapsed to single spaces."""
    return " ".join(remove_invisible(text).split())


def clean_lines(text: str) -> str:
    """Text from a multi-line input as stored: each line cleaned, blank lines dropped, line breaks kept."""
    return "\n".join(line for line in map(clean_text, text.splitlines()) if line)


def is_visible(text: str) -> bool:
    """Whether the text shows anything: a letter, digit, punctuation mark or symbol."""
    return any(unicodedata.category(ch)[0] in _VISIBLE_CATEGORIES and ch not in _BLANK_LOOKING for ch in text)


def too_long(what: str | Text, length: int, limit: int, hint: str | Text) -> Text:
    """The refusal of a text `length` characters long where `limit` fit: `what` names it (`tr("The reason")`),
    `hint` is a sentence saying how to do it right (`tr("Use a shorter name.")`)."""
    # TRANSLATORS: {what} names the text typed, like "The reason"; {hint} is a sentence saying what to do.
    return tr_n(
        "{what} is {count} character long; the most is {limit}. {hint}",
        "{what} is {count} characters long; the most is {limit}. {hint}",
        length,
        what=what,
        limit=limit,
        hint=hint,
    )


def checked_text(
    text: str,
    *,
    what: str | Text,
    limit: int,
    empty: str | Text,
    hint: str | Text,
    usage: str | Text | None = None,
    multiline: bool = False,
) -> str:
    """User text as it will be stored, or a refusal: unstorable characters, nothing visible (`empty` is the
    message), or longer than `limit` after cleaning (`hint` says how to do it right). Pass the messages as `tr(…)`
    so the refusal is read in its reader's language."""
    refuse_unstorable(text, what, usage)
    cleaned = clean_lines(text) if multiline else clean_text(text)
    if not is_visible(cleaned):
        raise CommandError(empty, usage)
    if len(cleaned) > limit:
        raise CommandError(too_long(what, len(cleaned), limit, hint), usage)
    return cleaned


# --- Links ---------------------------------------------------------------------------------------------

_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@]*@")


def has_credentials(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.username is not None or parts.password is not None or "@" in parts.netloc


def without_credentials(url: str) -> str:
    """The link with any `user:password@` removed (for showing a refused link, or one stored long ago)."""
    while _USERINFO.match(url):
        url = _USERINFO.sub(r"\g<scheme>", url, count=1)
    return url


_CREDENTIALS_ANYWHERE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s<>|]*@")


def mask_credentials(text: str) -> str:
    """The text with every link's `user:password@` shown as `…@`, for quoting a user's value back."""
    return _CREDENTIALS_ANYWHERE.sub(r"\g<scheme>…@", text)


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def punycode(host: str) -> str | None:
    """The ASCII (`xn--…`) form of a host written in other characters; None for an ASCII host."""
    return None if host.isascii() else ascii_host(host)


def ascii_host(host: str) -> str | None:
    """The host as a browser looks it up: each label in compatibility form and lowercase, and each one in other
    than ASCII as `xn--` punycode (as IDNA 2008 does, so `straße` stays distinct from `strasse`); None when a
    label would be empty or longer than DNS allows."""
    labels = unicodedata.normalize("NFKC", host.replace("\u3002", ".")).lower().rstrip(".").split(".")
    ascii_labels = [label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii") for label in labels]
    if (len(labels) > 1 and not all(ascii_labels)) or any(len(label) > 63 for label in ascii_labels):
        return None
    return ".".join(ascii_labels)


# A label "looks like a link" when it holds a host name, an IPv4 address, or `scheme://host`.
_DOMAIN = re.compile(r"(?<![\w-])(?:[^\W_](?:[\w-]{0,61}[^\W_])?[.\u3002])+[^\W\d_]{2,63}(?![\w-])")
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_NETLOC = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://(?P<netloc>[^/?#\s]*)")
# File names such as `contract.pdf` end like a host name; these endings are not top-level domains.
_FILE_EXTENSIONS = frozenset(
    {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "png", "jpg", "jpeg", "gif", "eml", "msg"}
)


def _hosts_in(label: str) -> set[str]:
    text = unicodedata.normalize("NFKC", label)
    found: set[str] = set()
    for match in _DOMAIN.finditer(text):
        name = match[0].replace("\u3002", ".")
        while name.rsplit(".", 1)[-1].lower() in _FILE_EXTENSIONS and name.count(".") > 1:
            name = name.rsplit(".", 1)[0]
        if name.rsplit(".", 1)[-1].lower() not in _FILE_EXTENSIONS:
            found.add(name)
    found.update(match[0] for match in _IPV4.finditer(text))
    for match in _NETLOC.finditer(text):
        host = match["netloc"].rsplit("@", 1)[-1]
        host = host[1:].split("]", 1)[0] if host.startswith("[") else host.split(":", 1)[0]
        if host:
            found.add(host)
    return found


def label_misleads(label: str, url: str) -> bool:
    """Whether a link's label names a host other than the link's own (or a domain it belongs to)."""
    target = ascii_host(host_of(url)) or ""
    for host in _hosts_in(label):
        named = ascii_host(host)
        if named is None or not (target == named or target.endswith("." + named)):
            return True
    return False
