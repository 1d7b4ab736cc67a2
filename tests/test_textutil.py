"""Unit tests for bot.core.textutil: parsing `/angry` text, escaping user text, customer keys, URLs."""

from __future__ import annotations

import random
import re

import pytest

from bot.core.textutil import (
    MAX_COMMAND_TEXT,
    MAX_CUSTOMER,
    customer_keys,
    is_url,
    parse_command,
    plain,
    safe,
)

# Tokens that may survive safe(): user mentions, channel mentions, links. Everything else that
# starts with '<' must have been escaped.
ALLOWED_TOKEN = re.compile(
    r"<(?:@[UW][A-Z0-9]+(?:\|[^<>]*)?|#[CG][A-Z0-9]+(?:\|[^<>]*)?|(?:https?://|mailto:)[^\s|<>]+(?:\|[^<>]*)?)>"
)
BROADCAST = re.compile(r"<!(?:channel|here|everyone|subteam)", re.IGNORECASE)


def assert_inert(out: str) -> None:
    """No broadcast, no markup except allowed tokens, no bare '&'."""
    assert "<!" not in out, out
    assert not BROADCAST.search(out), out
    rest = ALLOWED_TOKEN.sub("", out)
    assert "<" not in rest and ">" not in rest, (out, rest)
    # every '&' outside allowed tokens starts one of Slack's three entities
    for match in re.finditer("&", rest):
        assert re.match(r"&(amp|lt|gt);", rest[match.start():]), (out, rest)


# --- parse_command ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, customer, summary",
    [
        ("Acme Corp: charged twice", "Acme Corp", "charged twice"),
        ("  Acme Corp :   charged twice  ", "Acme Corp", "charged twice"),
        ("Acme Corp - charged twice", "Acme Corp", "charged twice"),
        ("Acme Corp: charged twice - and angry: very", "Acme Corp", "charged twice - and angry: very"),
        ("Acme Corp - charged: twice", "Acme Corp", "charged: twice"),
        ("Acme: see https://acme.com/t/1", "Acme", "see https://acme.com/t/1"),
        ("Acme:https://acme.com/t/1", "Acme", "https://acme.com/t/1"),
        ("Acme: see <https://acme.com/t/1|ticket>", "Acme", "see <https://acme.com/t/1|ticket>"),
        ("<@UCUSTOMER|jane>: refund failed", "<@UCUSTOMER|jane>", "refund failed"),
        ("<https://acme.com/a:b|Acme>: refund failed", "<https://acme.com/a:b|Acme>", "refund failed"),
        ("Jane &lt;jane@acme.com&gt;: refund failed", "Jane &lt;jane@acme.com&gt;", "refund failed"),
        ("Tom &amp; Jerry Ltd: invoice wrong", "Tom &amp; Jerry Ltd", "invoice wrong"),
        ("Müller GmbH: Rechnung doppelt 😠", "Müller GmbH", "Rechnung doppelt 😠"),
    ],
)
def test_customer_and_summary_are_split_at_the_first_separator(text, customer, summary):
    parsed = parse_command(text)
    assert parsed.kind == "case"
    assert parsed.customer == customer
    assert parsed.summary == summary


@pytest.mark.parametrize(
    "text",
    [
        "charged twice and threatening to cancel",
        "see https://acme.com/t/1 they are furious",
        "see http://acme.com/t/1 now",
        "<https://acme.com/t/1>",
        "<https://acme.com/t/1> is broken again",
        "Acme-Corp charged twice",  # a hyphen without spaces is not a separator
        "refund failed, see <https://acme.com/t/1|ticket>",
    ],
)
def test_without_a_separator_the_whole_text_is_what_happened(text):
    parsed = parse_command(text)
    assert parsed.kind == "case"
    assert parsed.customer is None
    assert parsed.summary == text.strip()


def test_url_scheme_colon_is_not_a_separator_but_a_later_colon_is():
    parsed = parse_command("https://acme.com/t/1 customer: charged twice")
    # the first ':' outside the URL scheme is after 'customer'
    assert parsed.kind == "case"
    assert parsed.customer == "https://acme.com/t/1 customer"
    assert parsed.summary == "charged twice"


@pytest.mark.parametrize("text", ["", "   ", None, "\n\t "])
def test_no_text_opens_the_form(text):
    parsed = parse_command(text)
    assert parsed.kind == "form"
    assert parsed.customer is None


@pytest.mark.parametrize("text, customer", [("Acme:", "Acme"), ("Acme Corp :  ", "Acme Corp"), ("Tom &amp; Jerry:", "Tom &amp; Jerry")])
def test_customer_without_summary_opens_prefilled_form(text, customer):
    parsed = parse_command(text)
    assert parsed.kind == "form"
    assert parsed.customer == customer
    assert parsed.summary is None


def test_trailing_dash_is_not_a_separator():
    parsed = parse_command("Acme Corp -")
    assert parsed.kind == "case"
    assert parsed.customer is None
    assert parsed.summary == "Acme Corp -"


@pytest.mark.parametrize("text", ["help", "HELP", " Help ", "?", "-h", "--help", "usage"])
def test_help_words(text):
    assert parse_command(text).kind == "help"


@pytest.mark.parametrize("word", ["stats", "list", "close", "Acme", "ACME-42"])
def test_single_unknown_word(word):
    parsed = parse_command(word)
    assert parsed.kind == "unknown"
    assert parsed.word == word
    assert parsed.customer is None and parsed.summary is None


def test_help_with_more_words_is_a_case_not_help():
    parsed = parse_command("help me with Acme")
    assert parsed.kind == "case"
    assert parsed.summary == "help me with Acme"


def test_length_limit_is_inclusive_and_counts_after_stripping():
    at_limit = "Acme: " + "x" * (MAX_COMMAND_TEXT - 6)
    assert len(at_limit) == MAX_COMMAND_TEXT
    assert parse_command(at_limit).kind == "case"
    assert parse_command("   " + at_limit + "   ").kind == "case"
    over = at_limit + "y"
    parsed = parse_command(over)
    assert parsed.kind == "too_long"
    assert parsed.length == MAX_COMMAND_TEXT + 1
    assert parsed.customer is None and parsed.summary is None
    # a single very long word is still "too long", not "unknown"
    assert parse_command("x" * 5000).kind == "too_long"


def test_customer_length_limit():
    exact = "C" * MAX_CUSTOMER
    parsed = parse_command(f"{exact}: what happened")
    assert parsed.customer == exact and parsed.summary == "what happened"
    too_long = "C" * (MAX_CUSTOMER + 1)
    parsed = parse_command(f"{too_long}: what happened")
    # not silently cut: no customer, the whole text is kept as what happened
    assert parsed.kind == "case"
    assert parsed.customer is None
    assert parsed.summary == f"{too_long}: what happened"


def test_empty_customer_keeps_whole_text():
    parsed = parse_command(": charged twice")
    assert parsed.kind == "case"
    assert parsed.customer is None
    assert parsed.summary == ": charged twice"


def test_parse_command_property_customer_summary_round_trip():
    rng = random.Random(1234)
    name_chars = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.&;'()éß"
    text_chars = name_chars + ":-/<>|!@#"
    for _ in range(2000):
        customer = "".join(rng.choice(name_chars) for _ in range(rng.randint(1, 40))).strip()
        summary = "".join(rng.choice(text_chars) for _ in range(rng.randint(1, 80))).strip()
        if not customer or not summary:
            continue
        if summary.startswith(("//", "- ", "-\t")):
            continue  # "x://..." is a URL scheme; "x: - y" is fine but strip rules differ
        sep = rng.choice([": ", ":", " : ", " - "])
        if sep.strip() == "-" and summary.startswith("-"):
            continue
        parsed = parse_command(f"{customer}{sep}{summary}")
        assert parsed.kind in ("case", "form"), (customer, sep, summary, parsed)
        assert parsed.customer == customer, (customer, sep, summary, parsed)
        assert parsed.summary == summary.strip(), (customer, sep, summary, parsed)


# --- safe ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<!here|here>",
        "<!channel|@channel>",
        "<!subteam^S0123ABC>",
        "<!subteam^S0123ABC|@support-team>",
        "<!CHANNEL>",
        "hey <!channel> and <!here> and <!everyone>!",
        "<<!channel>>",
        "<!channel",
        "!channel>",
        "<!date^1700000000^{date}|Nov 14>",
        "<!foo^bar>",
        "<https://acme.com|<!channel>>",
        "&lt;!channel&gt;",
        "&amp;lt;!channel&amp;gt;",
    ],
)
def test_safe_never_lets_a_broadcast_through(text):
    out = safe(text)
    assert_inert(out)


def test_safe_broadcasts_become_readable_inert_text():
    out = safe("ping <!channel> <!here> <!everyone> <!subteam^S01|@support>")
    visible = out.replace("\u2060", "")
    assert "@channel" in visible and "@here" in visible and "@everyone" in visible and "@support" in visible
    assert "<" not in out


@pytest.mark.parametrize(
    "token",
    [
        "<@U0123ABC>",
        "<@U0123ABC|jane>",
        "<@W0123ABC>",
        "<#C0123ABC>",
        "<#C0123ABC|support>",
        "<#G0123ABC|vip>",
        "<https://acme.com/t/1>",
        "<https://acme.com/t/1|ticket 1>",
        "<http://acme.com/?a=1&amp;b=2|query>",
        "<mailto:jane@acme.com|jane@acme.com>",
    ],
)
def test_safe_keeps_mentions_and_links(token):
    text = f"before {token} after"
    assert safe(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a < b", "a &lt; b"),
        ("a > b", "a &gt; b"),
        ("R&D", "R&amp;D"),
        ("a &amp; b", "a &amp; b"),  # already escaped by Slack: not doubled
        ("a &lt; b &gt; c", "a &lt; b &gt; c"),
        ("&amp", "&amp;amp"),
        ("&quot;x&quot;", "&amp;quot;x&amp;quot;"),
        ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"),
        ("<ftp://x.com>", "&lt;ftp://x.com&gt;"),
        ("<@u123>", "&lt;@u123&gt;"),
        ("1 < 2 > 0 & done", "1 &lt; 2 &gt; 0 &amp; done"),
        ("", ""),
        (None, ""),
    ],
)
def test_safe_escapes_stray_markup(text, expected):
    assert safe(text) == expected


def test_safe_keeps_newlines_and_unicode():
    text = "Line 1\nZeile 2 😠\n> quoted"
    assert safe(text) == "Line 1\nZeile 2 😠\n&gt; quoted"


FRAGMENTS = [
    "<", ">", "&", "!", "channel", "here", "everyone", "subteam^S01", "|", "@", "U123", "#C9", "#", "G7",
    "https://acme.com/x", "http://", "mailto:j@a.co", ":", " - ", "amp;", "lt;", "gt;", "&amp;", "&lt;",
    "&gt;", "\n", "date^1700000000^{date}", " ", "a", "Z", "😠", "é", "<!", "<@", "<#", "^", "{", "}",
]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 30)))


def test_safe_property_output_is_always_inert():
    rng = random.Random(20240611)
    for _ in range(20000):
        text = random_text(rng)
        out = safe(text)
        assert_inert(out)


def test_safe_property_idempotent_and_keeps_plain_words():
    rng = random.Random(99)
    for _ in range(5000):
        text = random_text(rng)
        once = safe(text)
        assert safe(once) == once, (text, once)
    # ordinary text without markup characters is returned unchanged
    words = "the customer was charged twice and wants a refund today ÄÖÜ 😠 42 % $ ' \" ( ) [ ] * _ ~ `".split(" ")
    for _ in range(2000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        assert safe(text) == text


# --- plain -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("<@U123|jane>", "jane"),
        ("<@U123>", "@U123"),
        ("<#C123|support>", "support"),
        ("<https://acme.com|ticket>", "ticket"),
        ("<https://acme.com>", "https://acme.com"),
        ("<mailto:jane@acme.com|jane@acme.com>", "jane@acme.com"),
        ("<!here>", "@here"),
        ("<!channel>", "@channel"),
        ("<!subteam^S1|@support>", "@support"),
        ("<!subteam^S1>", "@subteam"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("a &lt; b &gt; c", "a < b > c"),
        ("&amp;lt;", "&lt;"),  # decoded exactly once
        ("plain text", "plain text"),
        ("", ""),
        (None, ""),
    ],
)
def test_plain(text, expected):
    assert plain(text) == expected


def test_plain_never_longer_than_input():
    rng = random.Random(7)
    for _ in range(5000):
        text = random_text(rng)
        assert len(plain(text)) <= len(text), text


# --- customer_keys ---------------------------------------------------------------------------
def test_customer_keys_name_is_case_and_space_folded():
    a = customer_keys("Acme Corp")
    b = customer_keys("  ACME    corp ")
    c = customer_keys("acme corp")
    assert a.name == b.name == c.name == "acme corp"
    assert a.email is None and a.user is None


def test_customer_keys_unicode_casefold():
    assert customer_keys("STRASSE GmbH").name == customer_keys("Straße GmbH").name


def test_customer_keys_email_is_extracted_and_lowercased():
    keys = customer_keys("Jane Doe <mailto:Jane.Doe@Acme.COM|Jane.Doe@Acme.COM>")
    assert keys.email == "jane.doe@acme.com"
    assert keys.name == "jane doe"
    assert keys.user is None
    assert customer_keys("jane.doe@acme.com").email == "jane.doe@acme.com"
    assert customer_keys("jane.doe@acme.com").name is None
    assert customer_keys("Jane (jane+billing@acme.co.uk)").email == "jane+billing@acme.co.uk"
    assert customer_keys("Jane &lt;jane@acme.com&gt;").email == "jane@acme.com"


def test_customer_keys_slack_user():
    keys = customer_keys("<@UCUSTOMER|jane>")
    assert keys.user == "UCUSTOMER"
    assert keys.name is None
    keys = customer_keys("<@UCUSTOMER> from Acme")
    assert keys.user == "UCUSTOMER"
    assert keys.name == "from acme"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_customer_keys_empty(value):
    keys = customer_keys(value)
    assert keys.name is None and keys.email is None and keys.user is None


def test_customer_keys_entities_and_markup_are_decoded_before_folding():
    assert customer_keys("Tom &amp; Jerry").name == customer_keys("TOM & JERRY").name == "tom & jerry"


# --- is_url ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "https://acme.zendesk.com/agent/tickets/123",
        "http://acme.com",
        "HTTPS://ACME.COM/T/1",
        "  https://acme.com/t/1  ",
        "https://acme.com:8443/path?q=1&r=2#frag",
        "https://user@acme.com/x",
    ],
)
def test_is_url_accepts_web_addresses(value):
    assert is_url(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "acme.com/t/1",
        "www.acme.com",
        "ftp://acme.com/file",
        "javascript:alert(1)",
        "mailto:jane@acme.com",
        "https://",
        "https:acme.com",
        "https://acme .com/t/1",
        "ticket 123",
        "//acme.com/x",
    ],
)
def test_is_url_rejects_other_text(value):
    assert not is_url(value)
