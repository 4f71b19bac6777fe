"""Fixed replies the bot gives without a model: short, polite, and free of internal detail."""

from __future__ import annotations

from bot.agent.attribution import AskerRole

GREETING = (
    "Hi! I'm the support assistant. Ask me about an order (for example "
    "_where is my order 1042?_) and I'll look it up."
)
NOT_LINKED = (
    "I can't see which customer account belongs to your Slack profile, because it shows no "
    "email address. Please add your email to your Slack profile, or ask a support lead to link "
    "your account (`supportbot customers link <your Slack user id> <your email>`), then ask again."
)
# In a Slack Connect channel: the customer's colleagues read it too, so it names no command,
# no account and nothing of how the bot decides.
NOT_LINKED_SHARED = (
    "I can't look up account details from this channel. A member of our support team can "
    "help you with that here."
)


def not_linked(role: AskerRole, in_account: bool) -> str:
    """The not-linked reply for an asker: the shared-channel one unless today's rule applies."""
    if in_account or role in (AskerRole.UNATTRIBUTED, AskerRole.STAFF):
        return NOT_LINKED_SHARED
    return NOT_LINKED


NO_ANSWER = (
    "Sorry, I couldn't put together a reliable answer to that. Could you rephrase it, or "
    "include your order number?"
)


def too_long(length: int, limit: int) -> str:
    return (
        f"Sorry, that message is too long for me to read ({length:,} characters; the limit is "
        f"{limit:,}). Could you send just the key details, such as your order number and question?"
    )


def apology(error_id: str) -> str:
    return (
        "Sorry, something went wrong on our side while answering. Please try again in a "
        f"moment; if it keeps happening, mention reference `{error_id}` to support."
    )


HANDED_OFF = (
    "Thanks for your patience. I've passed this to a member of our support team, who will "
    "follow up here in this thread."
)
REVIEWED_MARK = "_Reviewed by our support team._"
MODELS_DOWN = (
    "Sorry, I'm having trouble answering right now. I've passed your message to our support "
    "team, who will follow up here in this thread."
)
CUSTOMER_BUDGET = (
    "Sorry, you've reached today's limit for automated answers. Please try again tomorrow, or "
    "say you'd like a person and our support team will help."
)


def slow_down(limit: int) -> str:
    return (
        f"You're sending messages faster than I can answer them (more than {limit} a minute). "
        "Please wait a moment; I'll answer your next message after that."
    )
