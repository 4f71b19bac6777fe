"""`to_mrkdwn`: the model's Markdown as Slack mrkdwn."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.slack_format import SLACK_TEXT_LIMIT, to_mrkdwn


def test_double_star_and_double_underscore_bold_become_slack_bold() -> None:
    assert to_mrkdwn("Order **1042** is __shipped__.") == "Order *1042* is *shipped*."


def test_bold_at_the_start_of_a_line_is_not_taken_for_a_bullet() -> None:
    assert to_mrkdwn("**Total**: $89.00") == "*Total*: $89.00"


def test_a_markdown_link_becomes_a_slack_link() -> None:
    assert (
        to_mrkdwn("See [our returns page](https://example.com/returns) for details.")
        == "See <https://example.com/returns|our returns page> for details."
    )


def test_a_pipe_in_link_text_cannot_break_the_slack_link() -> None:
    assert to_mrkdwn("[a|b](https://example.com)") == "<https://example.com|a/b>"


def test_only_web_links_are_converted() -> None:
    assert to_mrkdwn("[click](javascript:alert(1))") == "[click](javascript:alert(1))"


def test_headings_become_bold_lines() -> None:
    assert to_mrkdwn("# Your order\n### Items ###\ntext") == "*Your order*\n*Items*\ntext"


def test_an_order_number_with_a_hash_is_not_a_heading() -> None:
    assert to_mrkdwn("#1042 is on its way") == "#1042 is on its way"


def test_bullets_of_every_markdown_kind_become_bullet_points_keeping_the_indent() -> None:
    assert to_mrkdwn("- one\n* two\n+ three\n  - nested") == "• one\n• two\n• three\n  • nested"


def test_numbered_lists_are_left_as_they_are() -> None:
    assert to_mrkdwn("1. first\n2. second") == "1. first\n2. second"


def test_a_code_block_is_left_alone() -> None:
    markdown = "Run:\n```python\n# not a heading\n- not a bullet **not bold**\n```\n**after**"
    assert to_mrkdwn(markdown) == (
        "Run:\n```\n# not a heading\n- not a bullet **not bold**\n```\n*after*"
    )


def test_inline_code_is_left_alone_while_the_text_around_it_is_converted() -> None:
    assert to_mrkdwn("**Tracking**: `1Z**99**` and `[x](https://e.com)`") == (
        "*Tracking*: `1Z**99**` and `[x](https://e.com)`"
    )


def test_ampersand_and_angle_brackets_are_escaped() -> None:
    assert to_mrkdwn("Tom & Jerry: 3 < 5 > 1") == "Tom &amp; Jerry: 3 &lt; 5 &gt; 1"


def test_model_text_cannot_ping_a_channel_or_forge_a_link() -> None:
    out = to_mrkdwn("<!channel> <@U123> <https://evil.example|your bank>")
    assert out == "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|your bank&gt;"


def test_mentions_and_links_inside_code_are_escaped_too() -> None:
    # Slack reads <!channel>, <@U…> and <url|label> inside code as well: code is no shelter.
    assert to_mrkdwn("Try `<!channel>` or `<https://evil.example|Open the thread>`") == (
        "Try `&lt;!channel&gt;` or `&lt;https://evil.example|Open the thread&gt;`"
    )
    assert (
        to_mrkdwn("```\n<@U0BOSS> & <!here>\n```")
        == "```\n&lt;@U0BOSS&gt; &amp; &lt;!here&gt;\n```"
    )


def test_a_link_target_cannot_carry_a_label_or_close_the_link() -> None:
    assert to_mrkdwn("[our page](https://shop.example/a|Open>the&thread)") == (
        "<https://shop.example/a%7COpen%3Ethe&amp;thread|our page>"
    )


def test_an_entity_a_customer_typed_is_shown_as_typed() -> None:
    # Slack shows "&amp;lt;" as "&lt;": what was typed, not "<".
    assert to_mrkdwn("&lt;!channel&gt;") == "&amp;lt;!channel&amp;gt;"


def test_a_link_placeholder_in_the_text_is_not_taken_for_a_link() -> None:
    assert to_mrkdwn("a\x000\x00b [x](https://e.example)") == "a0b <https://e.example|x>"


def test_link_text_is_escaped_too() -> None:
    assert to_mrkdwn("[Q&A <new>](https://example.com)") == (
        "<https://example.com|Q&amp;A &lt;new&gt;>"
    )


def test_short_text_is_not_cut() -> None:
    text = "line\n" * 1000
    assert to_mrkdwn(text) == text.rstrip("\n")


def test_long_text_is_cut_under_the_limit_at_a_line_boundary() -> None:
    lines = [f"line {i:06d} " + "x" * 80 for i in range(1000)]  # ~92,000 characters
    out = to_mrkdwn("\n".join(lines))
    assert len(out) <= SLACK_TEXT_LIMIT
    assert out.endswith("\n…")
    kept = out.removesuffix("\n…").split("\n")
    assert kept == lines[: len(kept)]  # whole lines only, none cut in the middle
    assert len(out) > SLACK_TEXT_LIMIT - 100  # and no more cut than needed


def test_text_with_a_line_ending_right_at_the_limit_stays_under_it() -> None:
    out = to_mrkdwn("x" * (SLACK_TEXT_LIMIT - 1) + "\n" + "y" * 100)
    assert len(out) <= SLACK_TEXT_LIMIT
    assert out.endswith("…")


def test_one_huge_line_is_cut_under_the_limit() -> None:
    out = to_mrkdwn("z" * (SLACK_TEXT_LIMIT * 2))
    assert len(out) <= SLACK_TEXT_LIMIT
    assert out.endswith("…")


@given(st.text(alphabet=st.sampled_from("ab <>&*_#-\n[]()|!@"), max_size=200))
def test_outside_code_and_links_no_raw_angle_bracket_or_bare_ampersand_survives(
    text: str,
) -> None:
    out = to_mrkdwn(text)
    assert "<" not in out and ">" not in out
    assert re.search(r"&(?!amp;|lt;|gt;)", out) is None
