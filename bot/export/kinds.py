"""Where an exported example came from, and why an answer was left out: light, so that the
command line names them without importing the export."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    """Where an exported example came from."""

    LEAD_UNCHANGED = "lead_unchanged"  # a lead sent the draft as it was
    LEAD_EDITED = "lead_edited"  # a lead sent their own text
    STRONG_THUMBS_UP = "strong_thumbs_up"
    STRONG_NO_COMPLAINT = "strong_no_complaint"  # no 👎, no person asked for after it


class LeftOut(StrEnum):
    """Why an answer is not in the file."""

    THUMBS_DOWN = "thumbs_down"  # a 👎 after it, on a strong tier's answer or a lead's
    HANDED_OFF_AFTER = "handed_off_after"  # the strong tier's, a person asked for after it
    NO_DRAFT = "no_draft"  # a person took it before any model answered
    NO_TRANSCRIPT = "no_transcript"
    NO_FINAL_ANSWER = "no_final_answer"  # the model answered in plain text
    IMAGES = "images"
    TOO_LONG = "too_long"


# The answers left out because nobody approved them; the others were approved, and left out
# for what the file cannot hold.
NOT_APPROVED = frozenset({LeftOut.THUMBS_DOWN, LeftOut.HANDED_OFF_AFTER})
