"""Parsing what agents type, and making user text safe to echo into Slack markup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

MAX_COMMAND_TEXT = 3000
MAX_CUSTOMER = 150
MAX_SUMMARY = 3000

# One Slack markup token: <...> with no nested angle brackets.
_TOKEN_RE = re.compile(r"<([^<>\n]*)>")
_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_USER_RE = re.compile(r"^@[UW][A-Z0-9]+(\|[^<>]*)?$")
_CHANNEL_RE = re.compile(r"^#[CG][A-Z0-9]+(\|[^<>]*)?$")
_LINK_RE = re.compile(r"^(https?://|mailto:)[^\s|<>]+(\|[^<>]*)?$")
# `export` alone or with one token holding a digit (`export 30`, `export 30d`); `export failed` is a case.
_EXPORT_RE = re.compile(r"^export(?:\s+(\S*\d\S*))?$", re.IGNORECASE)
_HELP_WORDS = {"help", "?", "-h", "--help", "usage"}


def _escape_bare(text: str) -> str:
    """Escape &, < and > that are not already one of Slack's three entities."""
    parts = []
    pos = 0
    for match in _ENTITY_RE.finditer(text):
        parts.append(text[pos : match.start()].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        parts.append(match.group(0))
        pos = match.end()
    parts.append(text[pos:].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(parts)


def _special_label(inner: str) -> str:
    """`!channel` -> `@channel`, `!subteam^S1|@team` -> `@team`, `!date^..|fallback` -> fallback."""
    body, _, label = inner[1:].partition("|")
    if label:
        return label
    name = body.split("^", 1)[0]
    return "@" + name


def safe(text: str | None) -> str:
    """Make text safe to place in mrkdwn.

    Mentions of users and channels and plain links stay as Slack renders them; broadcasts
    (`<!channel>`, `<!here>`, `<!everyone>`, user groups) become inert text; any other angle
    brackets and ampersands are escaped so they cannot form markup.
    """
    if not text:
        return ""
    out = []
    pos = 0
    for match in _TOKEN_RE.finditer(text):
        out.append(_escape_bare(text[pos : match.start()]))
        inner = match.group(1)
        if _USER_RE.match(inner) or _CHANNEL_RE.match(inner) or _LINK_RE.match(inner):
            out.append(match.group(0))
        elif inner.startswith("!"):
            out.append(_escape_bare(_special_label(inner)).replace("@", "@\u2060", 1))
        else:
            out.append(_escape_bare(match.group(0)))
        pos = match.end()
    out.append(_escape_bare(text[pos:]))
    return "".join(out)


def plain(text: str | None) -> str:
    """Slack-formatted text as a person would read it, for plain_text fields (header, inputs)."""
    if not text:
        return ""

    def label(match: re.Match[str]) -> str:
        inner = match.group(1)
        body, _, shown = inner.partition("|")
        if shown:
            return shown
        if body.startswith("!"):
            return "@" + body[1:].split("^", 1)[0]
        return body

    text = _TOKEN_RE.sub(label, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def quote(text: str) -> str:
    """Prefix every line with '>' so Slack shows it as a quote."""
    return "\n".join(">" + line for line in text.splitlines() or [""])


@dataclass(frozen=True)
class CommandText:
    kind: str  # "help" | "form" | "case" | "unknown" | "too_long" | "export" (word: the days, if given)
    customer: str | None = None
    summary: str | None = None
    word: str | None = None
    length: int = 0


def _split_point(text: str) -> tuple[int, int] | None:
    """Index and width of the first ':' or ' - ' outside Slack markup and not part of a URL scheme."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif depth == 0:
            if ch == ":" and not text.startswith("//", i + 1):
                return i, 1
            if ch == " " and text.startswith(" - ", i):
                return i, 3
    return None


def parse_command(text: str | None) -> CommandText:
    """Interpret the text after `/angry` (cleaned of control characters first: it will be stored)."""
    text = clean(text or "").strip()
    if not text:
        return CommandText("form")
    if len(text) > MAX_COMMAND_TEXT:
        return CommandText("too_long", length=len(text))
    if text.lower() in _HELP_WORDS:
        return CommandText("help")
    if export := _EXPORT_RE.match(text):
        return CommandText("export", word=export.group(1))
    split = _split_point(text)
    if split is None:
        if len(text.split()) == 1 and not text.startswith("<"):
            return CommandText("unknown", word=text)
        return CommandText("case", summary=text)
    index, width = split
    customer = text[:index].strip()
    summary = text[index + width :].strip()
    if not customer or len(customer) > MAX_CUSTOMER:
        return CommandText("case", summary=text)
    if not summary:
        return CommandText("form", customer=customer)
    return CommandText("case", customer=customer, summary=summary)


_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_MENTION_ID_RE = re.compile(r"<@([UW][A-Z0-9]+)(\|[^<>]*)?>")


@dataclass(frozen=True)
class CustomerKeys:
    name: str | None
    email: str | None
    user: str | None


def customer_keys(customer: str | None) -> CustomerKeys:
    """Keys that identify a customer across cases: folded name, e-mail, Slack user."""
    if not customer:
        return CustomerKeys(None, None, None)
    mention = _MENTION_ID_RE.search(customer)
    user = mention.group(1) if mention else None
    without_mentions = _MENTION_ID_RE.sub(" ", customer)
    shown = plain(without_mentions)
    email_match = _EMAIL_RE.search(shown)
    email = email_match.group(0).lower() if email_match else None
    name = _EMAIL_RE.sub(" ", shown)
    name = re.sub(r"[()\[\]<>,;\"']", " ", name)
    name_key = " ".join(name.casefold().split()) or None
    return CustomerKeys(name_key, email, user)


MAX_LINK = 1000


def is_url(value: str) -> bool:
    """An http(s) address that can sit inside Slack's <url|label> markup unchanged."""
    text = value.strip()
    parsed = urlparse(text)
    return (
        parsed.scheme in ("http", "https")
        and bool(parsed.netloc)
        and len(text) <= MAX_LINK
        and not any(ch in text for ch in " |<>\n\t")
    )


def is_help(text: str | None) -> bool:
    return (text or "").strip().lower() in _HELP_WORDS


def safe_limited_echo(text: str, limit: int) -> str:
    """User text echoed back in a message: escaped and shortened."""
    return safe(truncate(text, limit))


def human_duration(seconds: float) -> str:
    """3,700 s -> '1 h 1 min'; 200,000 s -> '2 days 7 h'."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {mins} min" if mins else "")
    return f"{mins} min" if mins else "under a minute"


# C0 controls except tab and newline, DEL and C1 controls. PostgreSQL refuses NUL in text and JSON,
# and none of these mean anything in a Slack message.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A lone UTF-16 surrogate (JSON can carry "\ud800") cannot be encoded as UTF-8 by any driver.
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def clean(text: str) -> str:
    """User text as it may be stored: line breaks normalised to \\n, control characters and lone
    surrogates removed (a surrogate becomes U+FFFD so the reader sees something was there)."""
    if text.isprintable():  # the common case costs one scan
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    return _SURROGATE_RE.sub("\ufffd", text)


def clean_value(value: object) -> object:
    """`clean` applied to a string, or to every string inside a list or dict; anything else unchanged."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {k: clean_value(v) for k, v in value.items()}
    return value
