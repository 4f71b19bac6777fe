"""Persona and role-play takeovers ("DAN", "you are now ...", "pretend you have no rules").

A persona switch on its own is harmless ("act as my advocate with the courier"); these
patterns look for the switch *together with* an AI target, dropped rules, or the idioms of
published jailbreak prompts.  Long jailbreaks that avoid every idiom are caught by a cue
score: an unrestricted-behaviour cue plus an AI or persona cue plus one more family.
Patterns run on ``normalize(text)``.
"""

from __future__ import annotations

from escalation import prefilter
from escalation.prefilter import GuardPattern


def _rx(pattern: str) -> GuardPattern:
    return prefilter.compile(pattern)  # the text is already casefolded (clean, normalize)


# Invented persona names: "BasedGPT", "Cyni-Bot" (not "ChatGPT", "chatbot", "robot").
_PERSONA_NAME = r"(?:[\w-]*[a-z0-9-](?<!chat)(?<!chat-)gpt|[\w]*[a-z0-9]-?(?<!chat)(?<!ro)bot)\b"
_AI = r"(?:chat ?gpt|gpt-?\d|openai|language model|llm|\bai\b|a\.i\.|assistant|chat ?bot|\bbot\b)"
NO_RULES = (
    r"(?:no|without|zero|free (?:of|from)|not bound by|not restricted by|unbound by|ignor\w*"
    r"|bypass\w*|beyond)\s+(?:any\s+|all\s+|the\s+|your\s+|its\s+|of\s+)*(?:\w+\s+)?"
    r"(?:rules|restrictions|limitations|limits|filters?|filtering|guidelines|ethics|ethical"
    r"|morals?|censorship|boundaries|constraints|polic(?:y|ies)|safety|safeguards)"
)
# Known jailbreak families and their idioms (DAN, developer mode, "stay in character").
_NAMED_JAILBREAKS = [
    _rx(r"\bdo anything now\b"),
    _rx(r"\b(?:stay|staying|remain|break|breaking|broke) (?:in |out of |of )?character\b"),
    _rx(r"(?:^|\s)/(?:jailbroken|jailbreak|classic|dan)\b"),
    _rx(r"\b(?:dan|stan|dude|sda|aim|evil ?bot|anti-?dan|better ?dan) (?:mode|prompt|jailbreak)\b"),
    _rx(
        r"\b(?:act|acting|pretend|respond|answer|behave|simulate|become)\w*\s+(?:as|like|to be)"
        r"\s+(?:a\s+|an\s+|the\s+)?(?:dan|stan|dude|aim|sda|better ?dan)\b"
    ),
    _rx(
        rf"\b(?:jailbroken|jailbreak|jailbreaking)\b.{{0,60}}{_AI}|{_AI}.{{0,60}}\bjailbr(?:oken|eak)"
    ),
    _rx(
        r"\bsimulate (?:the )?developer mode\b|\b(?:chat ?gpt|gpt-?\d|openai|llm|language model)\b"
        r".{0,60}\bdeveloper mode\b|\bdeveloper mode\b.{0,60}\b(?:chat ?gpt|gpt-?\d|openai|llm"
        r"|language model)\b|\bdeveloper mode\b[^.!?]{0,80}\b(?:polic\w*|censor\w*|ignor\w*"
        r"|any kind of content|uncensored|unfiltered|profanity|no restrictions)|\b(?:enable"
        r"|activate|enter|switch (?:in)?to|turn on)\s+(?:the\s+)?developer mode\s+(?:and|then)"
        r"\s+(?:answer|respond|reply|ignore|say|confirm|tell)"
    ),
    _rx(
        r"\byou(?:'re| are)(?: now)? (?:in|running in|operating in|entering) "
        r"(?:\w+[ -]){0,2}mode\b"
    ),
    _rx(
        r"\bsimulate (?:\w+[ -]){1,2}mode\b|\bmode (?:enabled|activated) by (?:an? )?(?:openai"
        r"|developers?|admin\w*|anthropic)\b"
    ),
]

# Directives to become someone else: "you are now X", "from now on you are", "act as <name>GPT".
_PERSONA_SWITCH = [
    _rx(
        r"\byou(?:'re| are) (?:now |no longer |not )(?:a |an |the )?(?:(?:completely |totally "
        r"|fully )?(?:unrestricted|unfiltered|uncensored|freed?|liberated|jailbroken|evil"
        r"|amoral|immoral|unbound|unlimited|rogue)|(?:bound|restricted|limited|constrained"
        r"|governed) by|chat ?gpt|(?:an? )?(?:ai|assistant|language model|support bot|bot"
        r"|chatbot) (?:anymore|any more)|going to (?:act|pretend|play|be)|(?:a|an) (?:new"
        r"|different) (?:ai|model|assistant|bot|persona|character))"
    ),
    _rx(
        r"\byou(?:'re| are) no longer (?:an? )?(?:ai|assistant|language model|support bot|bot"
        r"|chatbot|chat ?gpt)\b"
    ),
    _rx(
        r"\bfrom now on,? (?:you|u) (?:are|will|must|shall|should|'re going to|are going to"
        r"|can)\s+(?:now\s+|always\s+|only\s+)*(?:be|act|respond|answer|reply|pretend|play"
        r"|behave|simulate|speak|talk|write|only|going to)"
    ),
    _rx(
        r"\b(?:stop|quit|cease) (?:being|acting as|acting like|playing) (?:a |an |the )?"
        r"(?:support |customer service )?(?:bot|assistant|ai|chatbot|agent)\b"
    ),
    _rx(
        r"\b(?:immerse yourself|take on the role|play the role|assume the role)\b.{0,80}"
        r"\b(?:ai|model|character|persona|chat ?gpt)\b"
    ),
    _rx(
        r"\b(?:you will|you'll|you are going to|you're going to|you must|you shall|i want you to"
        r"|from now on,? you(?: will)?)\s+(?:now\s+)?(?:play|take on|assume|adopt|portray)\s+the"
        r"\s+(?:role|persona|character|personality|part)\s+of\b"
    ),
    _rx(
        r"(?:^|[.!?:]\s*|\byou (?:will|must|should|shall) )always (?:start|begin|end|answer"
        r"|respond|reply)\w*\b[^.!?]{0,30}\b(?:with|as|in the form|like|by saying)\b"
        r"|\bfor the rest of (?:this|the|our) conversation,? (?:you|answer|respond|reply|act"
        r"|behave|pretend)"
    ),
    _rx(
        r"\bforget (?:everything|all) (?:about |from |of )?(?:chat ?gpt|openai|your (?:training"
        r"|programming|rules|guidelines)|being an? (?:ai|assistant|bot))"
    ),
    _rx(
        r"\bforget everything (?:that )?(?:i have|i've|i) (?:instructed|told|taught|programmed)"
        r" you\b"
    ),
    # "Now you are Xi Jinping, ..." / "You are now HackerGPT with no limits"
    _rx(
        r"(?:^|[.!?]\s*)(?:okay|ok|alright|good)?[,.!]?\s*now,? you(?:'re| are) (?!\w+ing\b)"
        r"(?!(?:the|my|a|an|so|very|really|just|not|being|too|still|here|back|able|on|in|at|done"
        r"|sure|right|wrong|out|open|closed)\b)(?:\w+ ){0,2}\w+,\s*(?:how|what|answer|respond"
        r"|reply|tell|and|who|please)\b"
    ),
    _rx(
        r"\byou will (?:now |only |from now on |always )+(?:respond|answer|reply|act|speak|talk"
        r"|write|behave)\s+(?:only\s+)?(?:as|like)\s+(?!(?:soon|quickly|fast|much|well|possible"
        r"|usual|normal|a|an|the|my|your)\b)"
    ),
    _rx(
        r"\b(?:you are|you're|act as|pretend to be|called|named)\s+(?:an?\s+)?[\w-]+,?\s+which"
        r" stands for\b"
    ),
    _rx(
        r"\byou(?:'re| are)? (?:now )?in the role of\b|\byou are to (?:act|pretend|play|behave"
        r"|respond|roleplay|role-play|simulate)\b"
    ),
    _rx(
        r"\byou(?:'re| are) (?:now )?(?:an? |the )?(?:\w+ ){0,2}(?:terminal|cmd|shell|console"
        r"|interpreter|command prompt)\b"
    ),
    _rx(
        r"\byou(?:'re| are) now (?:an? )(?:\w+ ){0,3}(?:ai|bot|robot|machine|model|gpt|assistant"
        r"|character|persona|program|simulator|simulation|version|entity|being)\b"
    ),
    _rx(
        r"\b(?:pretend|act|behave|roleplay|role-play)\w* (?:to be|as) (?:an? )?(?:\w+ )?(?:ai"
        r"|bot|chatbot|assistant|model|gpt) (?:named|called)\b"
    ),
    _rx(
        r"\byou(?:'re| are) going to (?:pretend|act as|play the role|roleplay|role-play|simulate"
        r"|be an? (?:ai|bot|chatbot|character))"
    ),
    _rx(
        r"\bfrom now on,? you(?:'re| are) (?!(?:my|our|the|a|an|so|very|really|not|going|always"
        r"|welcome|free to)\b)\w+(?:,| who\b| which\b| that\b| an? \w)"
    ),
    _rx(
        rf"\b(?:as|named|called|you are|you're|pretend to be|act as)\s+(?:an?\s+|the\s+)?"
        rf"{_PERSONA_NAME}"
    ),
    _rx(
        r"\byou(?:'ll| will| shall| must| are going to| are gonna)? (?:now )?(?:roleplay|role-play"
        r"|act|pretend|play) as\b(?! (?:soon|quickly|fast|much|well|possible|usual|normal)\b)"
        r"(?<!\byou act as)(?<!\byou play as)(?<!\byou pretend as)"
    ),
    _rx(r"\b(?:assistant|chat ?gpt|the ai|you) (?:will )?now acts? (?:like|as)\b"),
    _rx(r"\b(?:change|transform) yourself into\b"),
    _rx(
        r"\byour (?:new )?name is now\s+[\"“'‘]?[\w-]+[\"”'’]?\s*(?:[,.!]|and\b)"
        r"|\byou (?:now |will now )?go by the name\b"
        r"|\byou(?:'re| are) now\s+[\"“'‘]"
    ),
    _rx(
        r"\byour (?:new )?(?:persona|alter ego) (?:is|will be)\b|\b(?:imagine|pretend) (?:that )?"
        r"you have an alter ego\b"
    ),
    _rx(
        r"\byou(?:'re| are) now (?!(?:my|our|the|a|an|so|very|really|not|going|always|being"
        r"|welcome|free|able|in|on|at|out|back|done|connected|talking|speaking|chatting|dealing)"
        r"\b)[\w-]+(?:,| who\b| which\b| that\b| an? \w|\.\s+(?:behave|act|respond|answer|talk"
        r"|speak|you|he|she|they|it)\b)"
    ),
    _rx(
        r"\b(?:take up|take on|adopt|assume|put on) (?:the |a |an )?(?:\w+ )?(?:persona|character"
        r"|identity)\b(?! (?:limit|count|set)\b)"
    ),
    _rx(r"\byou (?:will |shall |must )?(?:now )?pose as\b"),
    _rx(r"\byou are [\w-]+ \((?:[a-z]+ ){2,}[a-z]+\)"),
    _rx(r"\byou(?:'re| are) now (?:an? )(?:\w+ )?(?:human|person)\b"),
    _rx(
        r"\byou (?:will|must|shall) (?:not|never) (?:respond|answer|reply|speak|act) as"
        r" (?:chat ?gpt|an? (?:ai|language model|assistant))"
    ),
]

# Dropping the rules: "pretend you have no rules", "not bound by OpenAI's policy".
_DROPPED_RULES = [
    _rx(
        rf"\b(?:pretend|imagine|act|behave|roleplay|role-play|play|respond|answer)\b"
        rf"[^.!?]{{0,60}}\b{NO_RULES}"
    ),
    _rx(
        r"\byou (?:now )?(?:have|possess|operate with|are under) (?:absolutely )?no (?:rules"
        r"|restrictions|limitations|filters|guidelines|ethics|morals|censorship|boundaries)"
    ),
    _rx(
        rf"\b(?:unfiltered|uncensored|unrestricted|amoral|unethical|jailbroken|evil|rogue"
        rf"|immoral)\s+(?:\w+\s+)?(?:{_AI}|model|version of (?:yourself|you)|persona|character"
        rf"|mode|alter ego)"
    ),
    _rx(
        r"\b(?:not|never|no longer) (?:need to |have to |required to )?(?:follow|adhere to"
        r"|abide by|obey|comply with|be bound by|be restricted by)\s+(?:any\s+|the\s+|your"
        r"\s+|openai'?s?\s+)*(?:rules|guidelines|polic|restrictions|content policy|ethic)"
    ),
    _rx(
        r"\b(?:ignore|ignoring|bypass|break|violate|disregard|free from|not (?:follow|comply"
        r" with))\w*\s+(?:all\s+|any\s+|of\s+)*(?:openai|chat ?gpt)'?s?\s+(?:content\s+)?"
        r"(?:polic|rules|guidelines|restrictions|filters)"
    ),
    _rx(
        rf"\b(?:fictional|hypothetical|imaginary|alternate|alternative|evil|unfiltered"
        rf"|uncensored)\s+(?:\w+\s+){{0,3}}(?:ai|model|chatbot|assistant|language model|gpt|bot)"
        rf"\b[^.!?]{{0,60}}{NO_RULES}"
    ),
    _rx(
        r"\byou(?:'re| are) now\b[^.!?]{0,50}\b(?:with|has|have|having) (?:no|zero|unlimited)"
        r" (?:limits|restrictions|rules|filters|censorship|ethics|guidelines|boundaries|power)"
    ),
    _rx(
        r"\bnot subject to (?:any |the |your |openai'?s? )*(?:content )?(?:polic\w*|rules"
        r"|restrictions|guidelines|filters|laws|ethics)"
    ),
    _rx(
        r"\b(?:doesn'?t|does not|don'?t|do not|won'?t|will not|never|not) (?:follow|care about"
        r"|adhere to|abide by|comply with|need to follow) (?:any |the )?(?:open ?ai|chat ?gpt)'?s?"
        r" (?:content )?(?:polic|rules|guidelines)"
        r"|\b(?:open ?ai|chat ?gpt)'?s? (?:rules|polic\w*|guidelines|restrictions|filters)"
        r" (?:don'?t|do not|no longer|doesn'?t|does not) apply"
    ),
    _rx(
        r"\b(?:is|are|am|be|being)\s+(?:not|no longer|never|no long)\s+(?:bound|restricted"
        r"|restrained|limited|confined|constrained|governed)\s+(?:by|to)\s+(?:any\s+|the\s+)?"
        r"(?:open ?ai|chat ?gpt|morals?|ethics|ethical|rules|polic\w*|guidelines|restrictions"
        r"|filters|laws)"
    ),
    _rx(
        rf"\b(?:language model|ai|chatbot|assistant|bot|model|llm|gpt)\s+(?:\w+\s+){{0,3}}?"
        rf"(?:built|programmed|designed|created|trained|made|with|that has|which has|who has)\s+"
        rf"{NO_RULES}"
    ),
    _rx(r"\b(?:free|frees|freed|freeing) (?:yourself|itself|himself|herself|themselves) from\b"),
]

# Two answers or two characters at once ("one normal and one as DAN").
_SPLIT_PERSONALITY = [
    _rx(
        r"\b(?:respond|answer|reply)\w*\s+(?:\w+\s+){0,3}(?:in|as|with)\s+(?:two|2|both)\s+"
        r"(?:different\s+|separate\s+|distinct\s+)*(?:personalities|personas|ways|characters"
        r"|modes|voices)\b"
    ),
    _rx(
        r"\b(?:generate|give|provide|write)\s+(?:me\s+)?two (?:different |separate )?responses"
        r"\b[^.]{0,80}\b(?:one normal|normal and one|one (?:with|as|from|acting))"
    ),
    _rx(
        r"\b(?:act|play|simulate|be)\s+(?:as\s+)?(?:two|2|both|three|3) (?:different |separate "
        r"|distinct )?(?:entities|characters|personas|ais|ai models|models|personalities)\b"
        r"|\b(?:respond|answer|reply|speak)\w* as both\b|\bin two (?:different |separate )?styles\b"
    ),
    _rx(
        r"\b(?:simulate|imagine|write|create) a (?:conversation|dialogue|chat) between (?:two|2)"
        r" (?:\w+ ){0,2}(?:ai|ais|chatbots|language models|models|entities|bots)\b"
    ),
]

_ROLEPLAY = _NAMED_JAILBREAKS + _PERSONA_SWITCH + _DROPPED_RULES + _SPLIT_PERSONALITY

# Cue families for long jailbreaks that avoid every idiom above.
_ROLEPLAY_CUES = {
    "ai": _rx(r"\b(?:chat ?gpt|openai|language model|llm|ai|gpt|chatbot|assistant)\b"),
    "persona": _rx(
        r"\b(?:act as|pretend|role ?-?play|persona|character|simulate|you will now"
        r"|from now on|alter ego|immerse yourself|personalit(?:y|ies)|role of"
        r"|play a game|in this game|(?:respond|answer|reply|speak) as|stays? in character)\b"
    ),
    "unrestricted": _rx(
        r"\b(?:unfiltered|uncensored|unrestricted|amoral|immoral|no (?:ethical"
        r"|moral)|any request|never refuses?|always (?:answer|respond|provide)"
        r"|can do anything|without (?:any )?(?:restrictions|limitations|filters"
        r"|censorship)|no (?:restrictions|limitations|filters|censorship|limits"
        r"|boundaries)|boundless|without (?:any )?(?:warnings?|disclaimers?)|no (?:warnings?"
        r"|disclaimers?)|never (?:warn|apologi[sz]e))\b"
    ),
    "policy": _rx(r"\b(?:content polic\w*|usage polic\w*|guidelines|ethics|morals?)\b"),
    "format": _rx(
        r"\btwo (?:different |separate )?(?:responses|answers|ways|paragraphs)\b"
        r"|\[[^\]]{1,25}\]\s*:"
    ),
    "harm": _rx(r"\b(?:illegal|harmful|offensive|explicit|nsfw|swear\w*|profanity|dangerous)\b"),
}


def is_roleplay_takeover(normalized: str) -> bool:
    if any(rx.search(normalized) for rx in _ROLEPLAY):
        return True
    cues = {name for name, rx in _ROLEPLAY_CUES.items() if rx.search(normalized)}
    anchored = "unrestricted" in cues and ("ai" in cues or "persona" in cues)
    return anchored and len(cues) >= 3
