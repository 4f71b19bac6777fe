"""`supportbot calibrate`: verdicts from what leads and customers did with the bot's answers
(and eval runs), the table of thresholds against escalation and error rates per tier, the
recommendation and the refusal on too few verdicts; and the lead's resolution of a draft
recorded through the real Slack buttons. On SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import binomtest

from bot.calibration import Source, Verdict, calibrate, format_text, stored_verdicts
from bot.calibration.results import NoRecommendation
from bot.calibration.table import wilson_upper
from bot.cli import main
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    Escalation,
    EscalationStatus,
    Feedback,
    Message,
    ModelCall,
    ReplyKind,
    Thumb,
    Tier,
)
from bot.text_table import render_table
from escalation.review import Resolution
from tests.conftest import Bot, dm
from tests.fakes.models import Turn, final, lookup
from tests.helpers import rows
from tests.serving import CODE_ROOT, process_env
from tests.test_cli import supportbot
from tests.test_escalation_flow import customer_posts, lead_bot
from tests.test_lead_review import submit_edit
from tests.test_slack_experience import click_feedback

README = Path(CODE_ROOT) / "README.md"
NOW = datetime.now(UTC)
DRAFT = "Order 1042 has shipped.\nIt should arrive this week."


class Seeder:
    """Answers stored as the bot stores them (a customer message, its model call with the
    final answer's confidence) and what leads and customers did with them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.threads = 0

    async def answer(self, tier: str, confidence: float | None, days_ago: float = 1) -> int:
        """A customer message answered by `tier`; its message id."""
        self.threads += 1
        at = NOW - timedelta(days=days_ago)
        async with self.db.session() as s:
            conv = Conversation(channel_id="D1", thread_ts=f"1.{self.threads}", user_id="UA")
            s.add(conv)
            await s.flush()
            asked = Message(
                conversation_id=conv.id or 0,
                role="user",
                user_id="UA",
                text="where is my order?",
                channel_id="D1",
                slack_ts=f"2.{self.threads}",
                status="answered",
                created_at=at,
            )
            s.add(asked)
            await s.flush()
            s.add(self._call(asked, tier, confidence, at))
            await s.commit()
            return asked.id or 0

    @staticmethod
    def _call(asked: Message, tier: str, confidence: float | None, at: datetime) -> ModelCall:
        return ModelCall(
            conversation_id=asked.conversation_id,
            message_id=asked.id,
            user_id="UA",
            provider="anthropic",
            model="claude-haiku-4-5" if tier == Tier.PRIMARY else "claude-sonnet-4-5",
            tier=tier,
            confidence=confidence,
            created_at=at,
        )

    async def call(self, message_id: int, tier: str, confidence: float | None) -> None:
        """Another model call for the same message (a tool step, the strong tier)."""
        async with self.db.session() as s:
            asked = await s.get(Message, message_id)
            assert asked is not None
            s.add(self._call(asked, tier, confidence, NOW - timedelta(hours=1)))
            await s.commit()

    async def thumb(
        self,
        message_id: int,
        value: Thumb,
        tier: str,
        kind: str = ReplyKind.ANSWER,
        user: str = "UA",
    ) -> None:
        async with self.db.session() as s:
            asked = await s.get(Message, message_id)
            assert asked is not None
            reply = Message(
                conversation_id=asked.conversation_id,
                role="assistant",
                text="the answer",
                channel_id="D1",
                slack_ts=f"3.{message_id}.{user}",
                reply_to_id=message_id,
                tier=tier,
                kind=kind,
            )
            s.add(reply)
            await s.flush()
            s.add(
                Feedback(
                    message_id=reply.id or 0,
                    conversation_id=asked.conversation_id,
                    user_id=user,
                    value=value,
                    tier=tier,
                )
            )
            await s.commit()

    async def escalation(
        self, message_id: int, resolution: Resolution | None, status: EscalationStatus
    ) -> None:
        async with self.db.session() as s:
            asked = await s.get(Message, message_id)
            assert asked is not None
            s.add(
                Escalation(
                    conversation_id=asked.conversation_id,
                    message_id=message_id,
                    status=status,
                    reasons=["low_confidence"],
                    draft=DRAFT,
                    resolution=resolution,
                )
            )
            await s.commit()

    async def judged(
        self, tier: str, confidence: float, source: Source, count: int, days_ago: float = 1
    ) -> None:
        """`count` answers of `tier` at `confidence`, each judged as `source` says."""
        resolutions = {
            Source.DRAFT_SENT: Resolution.DRAFT_SENT,
            Source.DRAFT_EDITED: Resolution.EDITED,
            Source.TAKEN_OVER: Resolution.TAKEN_OVER,
        }
        for _ in range(count):
            message_id = await self.answer(tier, confidence, days_ago)
            if source in resolutions:
                await self.escalation(message_id, resolutions[source], EscalationStatus.ANSWERED)
            else:
                up = source == Source.THUMB_UP
                await self.thumb(message_id, Thumb.UP if up else Thumb.DOWN, tier)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.close()


async def seed_traffic(db: Database) -> None:
    """Primary: 110 verdicts, the wrong ones at low confidence. Strong: 15, too few. Besides,
    what is no verdict, and one thumbs-down 40 days old."""
    seed = Seeder(db)
    primary, strong = Tier.PRIMARY, Tier.STRONG
    await seed.judged(primary, 0.45, Source.TAKEN_OVER, 5)
    await seed.judged(primary, 0.45, Source.THUMB_DOWN, 5)
    await seed.judged(primary, 0.75, Source.DRAFT_SENT, 10)
    await seed.judged(primary, 0.75, Source.DRAFT_EDITED, 5)
    await seed.judged(primary, 0.75, Source.THUMB_UP, 5)
    await seed.judged(primary, 0.92, Source.THUMB_UP, 80)
    await seed.judged(strong, 0.55, Source.DRAFT_EDITED, 3)
    await seed.judged(strong, 0.85, Source.DRAFT_SENT, 12)
    await seed.judged(strong, 0.85, Source.THUMB_DOWN, 1, days_ago=40)
    # No verdict: a dismissed and an open escalation, a thumb on a lead's answer, an answer
    # nobody judged.
    dismissed = await seed.answer(primary, 0.5)
    await seed.escalation(dismissed, Resolution.DISMISSED, EscalationStatus.DISMISSED)
    await seed.escalation(await seed.answer(primary, 0.5), None, EscalationStatus.OPEN)
    await seed.thumb(await seed.answer(primary, 0.5), Thumb.DOWN, Tier.HUMAN)
    await seed.answer(primary, 0.5)


async def calibrate_cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str, **env: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        code = await asyncio.to_thread(main, ["calibrate", *args])
    except SystemExit as exc:  # argparse refused an option
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def row(tier: dict[str, Any], threshold: float) -> tuple[Any, ...]:
    [found] = [r for r in tier["rows"] if r["threshold"] == threshold]
    keys = ("escalated", "answered", "wrong", "meets_target", "current")
    return tuple(found[k] for k in keys)


def tiers(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["tier"]: t for t in data["tiers"]}


# --- the table ------------------------------------------------------------------------------


async def test_the_table_and_the_recommendation_on_a_known_seed(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    await seed_traffic(db)
    code, out, _ = await calibrate_cli(database_url, monkeypatch, capsys, "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["verdicts"], data["target_error"], data["current_threshold"]) == (125, 0.05, 0.7)
    assert data["by_source"] == {
        "draft_sent": 22,
        "draft_edited": 8,
        "taken_over": 5,
        "thumb_up": 85,
        "thumb_down": 5,
    }
    primary = tiers(data)["primary"]
    assert (primary["verdicts"], primary["wrong"]) == (110, 15)
    assert [r["threshold"] for r in primary["rows"]] == [
        0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95,
    ]  # fmt: skip
    # (escalated, answered, wrong among answered, error bound within 5 %, current)
    assert row(primary, 0.45) == (0, 110, 15, False, False)
    assert row(primary, 0.5) == (10, 100, 5, False, False)
    assert row(primary, 0.7) == (10, 100, 5, False, True)
    assert row(primary, 0.8) == (30, 80, 0, True, False)
    assert row(primary, 0.95) == (110, 0, 0, False, False)
    at_half = next(r for r in primary["rows"] if r["threshold"] == 0.5)
    assert at_half["escalation_rate"] == pytest.approx(10 / 110)
    assert at_half["error_rate"] == pytest.approx(0.05)
    assert at_half["error_upper"] == pytest.approx(0.11175, abs=1e-5)  # 5 of 100: up to 11 %
    # The fewest escalations within the target: 0.80 to 0.90 (80 answered, none wrong: at most
    # 4.6 %), a tie (no verdict between them) that goes to the highest, the safer.
    assert (primary["recommended"], primary["no_recommendation"]) == (0.9, None)
    assert all(r["enough"] == (r["answered"] >= 30) for r in primary["rows"])

    strong = tiers(data)["strong"]
    assert (strong["verdicts"], strong["wrong"], strong["recommended"]) == (15, 3, None)
    assert strong["no_recommendation"] == "too_few_verdicts"
    assert row(strong, 0.6) == (3, 12, 0, False, False)


async def test_the_text_marks_the_current_and_the_recommended_threshold(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """As the console script prints it, in a process of its own."""
    await seed_traffic(db)
    run = await supportbot("calibrate", env=process_env(database_url, tmp_path), cwd=tmp_path)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Calibration on 125 verdict(s) on answers given since ")
    assert "     85 thumbs up" in lines and "     22 drafts a lead sent as drafted" in lines
    assert "Current threshold (SUPPORTBOT_CONFIDENCE_THRESHOLD): 0.70" in lines
    assert "primary tier: 110 verdict(s), 15 wrong" in lines
    assert (
        "  0.70              10    9.1%       100      5   5.0%          11.2%   <- current"
        in lines
    )
    assert "  0.80              30   27.3%        80      0   0.0%           4.6%" in lines
    assert (
        "  0.90              30   27.3%        80      0   0.0%           4.6%   <- recommended"
        in lines
    )
    assert (
        "  Recommended: 0.90 (escalates 27.3%; error 0.0%, at most 4.6%;"
        " rests on 80 answered of 110 verdicts)"
    ) in lines
    assert "strong tier: 15 verdict(s), 3 wrong" in lines
    assert "  No recommendation: 15 verdict(s), fewer than the 30 a tier needs." in lines
    # The README shows this very output (the first line but its date).
    readme = README.read_text(encoding="utf-8")
    shown = readme.split("$ supportbot calibrate\n", 1)[1].split("```", 1)[0]
    assert shown.splitlines()[1:] == lines[1:]


async def test_a_current_threshold_off_the_grid_gets_its_own_row(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    await seed_traffic(db)
    _, out, _ = await calibrate_cli(
        database_url, monkeypatch, capsys, "--json", SUPPORTBOT_CONFIDENCE_THRESHOLD="0.77"
    )
    primary = tiers(json.loads(out))["primary"]
    assert row(primary, 0.77) == (30, 80, 0, True, True)
    assert [r["threshold"] for r in primary["rows"] if r["current"]] == [0.77]
    # 0.80 to 0.90 escalate no more on these verdicts (none between): the highest, not the
    # current one.
    assert primary["recommended"] == 0.9


async def test_too_few_verdicts_refuse_a_recommendation_even_within_the_target(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The strong tier's 12 right answers at 0.85 are within a 50 % target (at most 24 %
    wrong), but 15 verdicts are fewer than the 30 a recommendation rests on: exit 0 all the
    same, saying why."""
    await seed_traffic(db)
    code, out, _ = await calibrate_cli(
        database_url, monkeypatch, capsys, "--json", "--target-error", "0.5"
    )
    assert code == 0
    strong = tiers(json.loads(out))["strong"]
    assert row(strong, 0.6) == (3, 12, 0, True, False)
    assert (strong["recommended"], strong["no_recommendation"]) == (None, "too_few_verdicts")


async def test_an_empty_database_has_nothing_to_recommend(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, out, _ = await calibrate_cli(database_url, monkeypatch, capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("Calibration on 0 verdict(s)")
    assert out.count("No recommendation: 0 verdict(s), fewer than the 30 a tier needs.") == 2
    assert "threshold  escalated" not in out


async def test_since_keeps_the_answers_of_the_window(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    await seed_traffic(db)
    _, out, _ = await calibrate_cli(database_url, monkeypatch, capsys, "--json", "--since", "60d")
    strong = tiers(json.loads(out))["strong"]
    assert (strong["verdicts"], strong["wrong"]) == (16, 4)  # the thumbs-down of 40 days ago
    _, out, _ = await calibrate_cli(database_url, monkeypatch, capsys, "--json", "--since", "12h")
    assert json.loads(out)["verdicts"] == 0  # every seeded answer is a day old or more
    code, _, err = await calibrate_cli(database_url, monkeypatch, capsys, "--since", "a month")
    assert code == 2 and "--since takes a number and d, h or m" in err


async def test_eval_runs_add_their_verdicts(
    db: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    tmp_path: Path,
) -> None:
    """20 strong answers graded right at 0.9 bring the strong tier to 35 verdicts: enough to
    judge, not enough for 5 % (32 answered, none wrong: up to 10.7 %), enough for 15 %
    from 0.60 up."""
    await seed_traffic(db)
    run = {
        "suite": "orders",
        "configuration": {"tier_mode": "routed"},
        "cases": [
            {"id": f"c{n}", "turns": [{"tier": "strong", "confidence": 0.9, "correct": True}]}
            for n in range(20)
        ]
        + [
            {
                "id": "person",
                "turns": [
                    {"route": "person", "tier": "person", "confidence": None, "correct": True},
                    {"tier": "strong", "confidence": None, "correct": False},
                ],
            }
        ],
    }
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    _, out, _ = await calibrate_cli(
        database_url, monkeypatch, capsys, "--json", "--eval", str(path)
    )
    data = json.loads(out)
    assert (data["by_source"]["eval_correct"], data["eval_turns_skipped"]) == (20, 2)
    strong = tiers(data)["strong"]
    assert (strong["verdicts"], strong["no_recommendation"]) == (35, "none_meets_target")
    assert row(strong, 0.6) == (3, 32, 0, False, False)
    # A run of --tier primary answers as "strong" with the primary model: skipped, counted.
    one_model = tmp_path / "primary.json"
    one_model.write_text(json.dumps(run | {"configuration": {"tier_mode": "primary"}}))
    _, out, _ = await calibrate_cli(
        database_url, monkeypatch, capsys, "--eval", str(path), "--eval", str(one_model)
    )
    assert "Calibration on 145 verdict(s)" in out
    assert "  (1 eval run(s) skipped: not routed, one model as both tiers)" in out.splitlines()
    _, out, _ = await calibrate_cli(
        database_url, monkeypatch, capsys, "--json", "--eval", str(path), "--target-error", "0.15"
    )
    strong = tiers(json.loads(out))["strong"]
    assert row(strong, 0.6)[3] and row(strong, 0.55)[3] is False
    # 0.60 to 0.85 escalate the same 3 (no verdict between): the highest of them.
    assert (strong["recommended"], strong["no_recommendation"]) == (0.85, None)


async def test_an_eval_file_that_is_not_a_run_is_refused_by_name(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    for content, said in (
        (
            '{"configuration": {"tier_mode": "routed"}, '
            '"cases": [{"turns": [{"tier": "primary", "confidence": 1.5}]}]}',
            "cases.0.turns.0",
        ),
        ('{"cases": []}', "configuration: Field required"),
        ("[]", "the file"),
        ("not json", "not an eval run"),
    ):
        bad.write_text(content)
        code, _, err = await calibrate_cli(database_url, monkeypatch, capsys, "--eval", str(bad))
        assert code == 2 and err.startswith(f"supportbot: --eval {bad}") and said in err
    code, _, err = await calibrate_cli(
        database_url, monkeypatch, capsys, "--eval", str(tmp_path / "missing.json")
    )
    assert code == 2 and "missing.json" in err
    code, _, err = await calibrate_cli(database_url, monkeypatch, capsys, "--target-error", "5")
    assert code == 2 and "not between 0 and 1" in err


def _calibrated(verdicts: list[Verdict], target: float) -> Any:
    [primary, _] = calibrate(verdicts, since=NOW, target_error=target, current_threshold=0.7).tiers
    return primary


def test_a_threshold_within_the_target_on_too_few_answered_is_not_recommended() -> None:
    """40 verdicts, enough for the tier; but the thresholds within a 30 % target leave 15
    answered, fewer than the 30 a threshold's error rate must rest on."""
    verdicts = [Verdict(Tier.PRIMARY, 0.4, Source.THUMB_DOWN)] * 10
    verdicts += [Verdict(Tier.PRIMARY, 0.4, Source.THUMB_UP)] * 15
    verdicts += [Verdict(Tier.PRIMARY, 0.9, Source.THUMB_UP)] * 15
    primary = _calibrated(verdicts, 0.3)
    at = primary.row(0.45)
    assert (at.answered, at.meets_target, at.enough) == (15, True, False)
    assert primary.recommended is None
    assert primary.no_recommendation == NoRecommendation.TOO_FEW_ANSWERED
    calibration = calibrate(verdicts, since=NOW, target_error=0.3, current_threshold=0.7)
    text = format_text(calibration).splitlines()
    assert (
        "  0.45              25   62.5%        15      0   0.0%          20.4%"
        "   <- within the target on too few answered"
    ) in text
    assert (
        "  No recommendation: the error rate is surely within 30.0% only where fewer than the"
        " 30 answered a threshold needs are left."
    ) in text


def test_tied_thresholds_go_to_the_highest() -> None:
    """Every answer at 0.92: 0.30 to 0.90 all escalate none and err none; the highest wins,
    not the current 0.70 nor the lowest."""
    primary = _calibrated([Verdict(Tier.PRIMARY, 0.92, Source.THUMB_UP)] * 100, 0.05)
    assert (primary.recommended, primary.row(0.9).escalated) == (0.9, 0)


def test_the_error_bound_is_the_wilson_interval() -> None:
    for wrong, answered in ((0, 73), (0, 72), (5, 100), (12, 12), (3, 40)):
        expected = binomtest(wrong, answered).proportion_ci(0.95, "wilson").high
        assert wilson_upper(wrong, answered) == pytest.approx(expected, abs=1e-9)
    assert wilson_upper(0, 73) < 0.05 < wilson_upper(0, 72)  # the README's figure
    assert wilson_upper(0, 0) is None


# --- which answer a verdict is about --------------------------------------------------------


async def test_the_last_call_with_a_final_answer_gives_the_tier_and_confidence(
    db: Database,
) -> None:
    """A tool step (no confidence), the primary tier's unsure answer, then the strong tier's:
    the lead judged the strong tier's draft."""
    seed = Seeder(db)
    message = await seed.answer(Tier.PRIMARY, None)
    await seed.call(message, Tier.PRIMARY, 0.3)
    await seed.call(message, Tier.STRONG, None)
    await seed.call(message, Tier.STRONG, 0.64)
    await seed.escalation(message, Resolution.EDITED, EscalationStatus.ANSWERED)
    assert await stored_verdicts(db, NOW - timedelta(days=30)) == [
        Verdict(Tier.STRONG, 0.64, Source.DRAFT_EDITED)
    ]


async def test_a_leads_verdict_outranks_the_thumbs_and_any_thumb_down_counts(
    db: Database,
) -> None:
    seed = Seeder(db)
    disliked = await seed.answer(Tier.PRIMARY, 0.81)
    await seed.thumb(disliked, Thumb.DOWN, Tier.PRIMARY)
    await seed.escalation(disliked, Resolution.DRAFT_SENT, EscalationStatus.ANSWERED)
    shared = await seed.answer(Tier.PRIMARY, 0.7)
    await seed.thumb(shared, Thumb.UP, Tier.PRIMARY, user="UA")
    await seed.thumb(shared, Thumb.DOWN, Tier.PRIMARY, user="UB")
    greeting = await seed.answer(Tier.PRIMARY, 0.9)
    await seed.thumb(greeting, Thumb.UP, Tier.PRIMARY, kind=ReplyKind.GREETING)
    found = await stored_verdicts(db, NOW - timedelta(days=30))
    assert sorted(found, key=lambda v: v.confidence) == [
        Verdict(Tier.PRIMARY, 0.7, Source.THUMB_DOWN),
        Verdict(Tier.PRIMARY, 0.81, Source.DRAFT_SENT),
    ]


# --- the lead's action, recorded through the Slack buttons ----------------------------------


async def escalated(bot: Bot, confidence: float = 0.83) -> Escalation:
    """A primary answer to 1042 (above the high-value line) handed to a lead, its draft
    offered to send as it is."""
    bot.anthropic.script = [
        lookup("1042"),
        final(DRAFT, confidence),
        Turn(text="Alice asks where order 1042 is."),  # the summary for the leads
    ]
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [esc] = [e for e in await rows(bot, Escalation) if e.status == "open"]
    assert "high_value_order" in esc.reasons and esc.draft == DRAFT
    return esc


async def resolution_of(bot: Bot, esc: Escalation) -> str | None:
    [stored] = [e for e in await rows(bot, Escalation) if e.id == esc.id]
    return stored.resolution


async def verdicts_of(bot: Bot) -> list[Verdict]:
    return await stored_verdicts(bot.services.db, NOW - timedelta(days=1))


async def test_send_draft_records_the_draft_as_right(start_bot: Any) -> None:
    bot = await lead_bot(start_bot, high_value_order="50")
    esc = await escalated(bot)
    assert await resolution_of(bot, esc) is None
    await bot.click("escalation_send_draft", str(esc.id))
    assert await resolution_of(bot, esc) == Resolution.DRAFT_SENT
    assert await verdicts_of(bot) == [Verdict(Tier.PRIMARY, 0.83, Source.DRAFT_SENT)]


async def test_edit_and_send_records_an_edit_unless_the_text_is_the_drafts(
    start_bot: Any,
) -> None:
    bot = await lead_bot(start_bot, high_value_order="50")
    edited = await escalated(bot, 0.61)
    assert await submit_edit(bot, edited, "Order 1042 shipped on Monday.") == (200, "")
    assert await resolution_of(bot, edited) == Resolution.EDITED
    # Opened to read the whole draft and sent as it was (the form trims and rejoins lines).
    unchanged = await escalated(bot, 0.9)
    assert await submit_edit(bot, unchanged, "  " + DRAFT.replace("\n", "\n\n")) == (200, "")
    assert await resolution_of(bot, unchanged) == Resolution.DRAFT_SENT
    assert sorted(await verdicts_of(bot), key=lambda v: v.confidence) == [
        Verdict(Tier.PRIMARY, 0.61, Source.DRAFT_EDITED),
        Verdict(Tier.PRIMARY, 0.9, Source.DRAFT_SENT),
    ]


async def test_take_over_records_the_draft_as_wrong_whatever_follows(start_bot: Any) -> None:
    bot = await lead_bot(start_bot, high_value_order="50")
    resolved = await escalated(bot, 0.72)
    await bot.click("escalation_take_over", str(resolved.id))
    assert await resolution_of(bot, resolved) == Resolution.TAKEN_OVER
    await bot.click("escalation_resolve", str(resolved.id))
    assert await resolution_of(bot, resolved) == Resolution.TAKEN_OVER
    answered = await escalated(bot, 0.74)
    await bot.click("escalation_take_over", str(answered.id))
    assert await submit_edit(bot, answered, DRAFT) == (200, "")  # the draft, after a take-over
    [stored] = [e for e in await rows(bot, Escalation) if e.id == answered.id]
    assert (stored.status, stored.resolution) == ("answered", Resolution.TAKEN_OVER)
    assert sorted(await verdicts_of(bot), key=lambda v: v.confidence) == [
        Verdict(Tier.PRIMARY, 0.72, Source.TAKEN_OVER),
        Verdict(Tier.PRIMARY, 0.74, Source.TAKEN_OVER),
    ]


async def test_dismiss_is_recorded_and_is_no_verdict(start_bot: Any) -> None:
    bot = await lead_bot(start_bot, high_value_order="50")
    esc = await escalated(bot)
    await bot.click("escalation_dismiss", str(esc.id))
    assert await resolution_of(bot, esc) == Resolution.DISMISSED
    assert await verdicts_of(bot) == []


async def test_the_askers_thumbs_are_verdicts_and_calibrate_reads_them(
    start_bot: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Two answers rated through the feedback buttons, then `supportbot calibrate` on the
    bot's own database."""
    bot = await lead_bot(start_bot)
    for confidence, action in ((0.93, "feedback_up"), (0.71, "feedback_down")):
        bot.anthropic.script = [lookup("1042"), final("Order 1042 has shipped.", confidence)]
        await bot.event(dm("where is my order 1042?"))
        await bot.settle()
        await click_feedback(bot, customer_posts(bot)[-1], action)
    assert sorted(await verdicts_of(bot), key=lambda v: v.confidence) == [
        Verdict(Tier.PRIMARY, 0.71, Source.THUMB_DOWN),
        Verdict(Tier.PRIMARY, 0.93, Source.THUMB_UP),
    ]
    code, out, _ = await calibrate_cli(
        bot.services.settings.database_url, monkeypatch, capsys, "--json"
    )
    primary = tiers(json.loads(out))["primary"]
    assert code == 0 and (primary["verdicts"], primary["wrong"]) == (2, 1)
    assert row(primary, 0.75) == (1, 1, 0, False, False)


def test_the_threshold_table_is_drawn_by_the_shared_renderer() -> None:
    """bot/text_table.py draws eval's, compare's, costs' and calibrate's tables: the figures of
    the threshold table end under their headings (`error at most` too)."""
    assert render_table([("a", "1"), ("bbb", "22")], indent="  ", right={1}) == [
        "  a     1",
        "  bbb  22",
    ]
    assert render_table([]) == []
    verdicts = [Verdict(Tier.PRIMARY, 0.92, Source.THUMB_UP)] * 100
    lines = format_text(calibrate(verdicts, since=NOW, target_error=0.05, current_threshold=0.7))
    header = next(line for line in lines.splitlines() if line.startswith("  threshold"))
    rows = [line.split("   <- ")[0] for line in lines.splitlines() if line.startswith("  0.")]
    assert len(rows) == 14 and {len(r) for r in rows} == {len(header)}
