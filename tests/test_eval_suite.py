"""The bundled evaluation suite (bot/data/eval): its case files follow the eval case format,
its shop loads through the real order import and article parser, and every expected route is
the one escalation.policy gives when a good model calls the expected tools on that shop."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import bot.data
from bot.agent.identity import Asker
from bot.agent.models.base import ToolCall
from bot.agent.tools import Toolbox, ToolName, ToolOutcome
from bot.agent.tools.base import ToolContext
from bot.knowledge import KnowledgeBase, reindex
from bot.knowledge.articles import read_folder
from bot.orders import SqlOrders
from bot.orders.importing import import_orders, parse_order_file
from bot.store.db import Database
from escalation.guards import check_input, check_tool_output
from escalation.intents import asks_for_human, says_answer_was_wrong
from escalation.policy import (
    Decision,
    Finding,
    ModelTier,
    PolicyConfig,
    Reason,
    Situation,
    before_model,
    decide,
)

DATA = Path(bot.data.__file__).parent
EVAL = DATA / "eval"
# The threshold the high_value suite is written for (bot/data/eval/README.md).
HIGH_VALUE = Decimal("500")
POLICY = PolicyConfig(confidence_threshold=0.7, high_value_order=HIGH_VALUE)

ROUTES = {"answer", "strong", "person"}
REASONS = {r.value for r in Reason}
DATA_TOOLS = {t.value for t in ToolName} - {ToolName.FINAL_ANSWER.value}
SUITE_KEYS = {"suite", "description", "cases"}
CASE_KEYS = {"id", "tags", "customer", "lead", "turns"}
EXPECT_KEYS = {"route", "reasons", "tools", "no_tools", "facts", "must_not_say", "cites"}


def _suites() -> dict[str, dict[str, Any]]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((EVAL / "suites").glob("*.yaml"))
    }


SUITES = _suites()
CASES = [(name, case) for name, doc in SUITES.items() for case in doc["cases"]]
ORDERS = {
    o.order_id: o
    for o in parse_order_file((EVAL / "orders.json").read_text(encoding="utf-8"), "orders.json")
}
ARTICLES = {Path(i).stem: a for i, (_, a) in read_folder(EVAL / "knowledge").items()}


def _strings(value: Any) -> list[str]:
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else []


def _fact_problems(facts: Any) -> list[str]:
    if not isinstance(facts, list):
        return ["facts is not a list"]
    return [
        f"fact {fact!r} is neither text nor a list of texts"
        for fact in facts
        if not (isinstance(fact, str) and fact) and not (_strings(fact) and all(fact))
    ]


def _tool_problems(tools: Any) -> list[str]:
    if not isinstance(tools, list):
        return ["tools is not a list"]
    problems = []
    for tool in tools:
        if not isinstance(tool, dict) or set(tool) - {"name", "args"}:
            problems.append(f"tool {tool!r} is not {{name, args}}")
        elif tool.get("name") not in DATA_TOOLS:
            problems.append(f"tool {tool.get('name')!r} is not a data tool of ToolName")
        elif not isinstance(tool.get("args", {}), dict):
            problems.append(f"args of {tool['name']} is not a mapping")
        elif not isinstance(tool.get("args", {}).get("order_id", ""), str):
            problems.append(f"order_id {tool['args']['order_id']!r} is not text (quote it)")
    return problems


def _expect_problems(expect: Any) -> list[str]:
    if not isinstance(expect, dict) or set(expect) - EXPECT_KEYS:
        return [f"expect {expect!r} has keys outside {sorted(EXPECT_KEYS)}"]
    problems = []
    route, reasons = expect.get("route"), expect.get("reasons", [])
    if route not in ROUTES:
        problems.append(f"route {route!r} is not one of {sorted(ROUTES)}")
    if not isinstance(reasons, list) or set(reasons) - REASONS:
        problems.append(f"reasons {reasons!r} are not all escalation.policy.Reason values")
    elif reasons and route == "answer":
        problems.append("reasons are given for route answer")
    problems += _tool_problems(expect.get("tools", []))
    if expect.get("no_tools") and expect.get("tools"):
        problems.append("no_tools with tools")
    problems += _fact_problems(expect.get("facts", []))
    if expect.get("must_not_say", []) and not _strings(expect["must_not_say"]):
        problems.append("must_not_say is not a list of texts")
    problems += [
        f"cites {c!r}: no such article" for c in expect.get("cites", []) if c not in ARTICLES
    ]
    return problems


def _case_problems(case: Any) -> list[str]:
    if not isinstance(case, dict) or set(case) - CASE_KEYS or "id" not in case:
        return [f"case {case!r} has no id or keys outside {sorted(CASE_KEYS)}"]
    problems = []
    if not isinstance(case.get("tags", []), list):
        problems.append("tags is not a list")
    customer = case.get("customer")
    if customer is not None and (not isinstance(customer, str) or "@" not in customer):
        problems.append(f"customer {customer!r} is neither null nor an email")
    if not isinstance(case.get("lead", False), bool):
        problems.append("lead is not true or false")
    turns = case.get("turns")
    if not isinstance(turns, list) or not turns:
        return [*problems, "no turns"]
    for turn in turns:
        if not isinstance(turn, dict) or set(turn) != {"say", "expect"} or not turn["say"]:
            problems.append(f"turn {turn!r} is not {{say, expect}}")
            continue
        problems += _expect_problems(turn["expect"])
    return [f"{case['id']}: {p}" for p in problems]


@pytest.mark.parametrize("name", sorted(SUITES))
def test_every_suite_file_follows_the_case_format(name: str) -> None:
    doc = SUITES[name]
    assert set(doc) == SUITE_KEYS
    assert doc["suite"] == name, "a suite is named after its file"
    assert isinstance(doc["description"], str) and doc["description"].strip()
    assert [p for case in doc["cases"] for p in _case_problems(case)] == []
    ids = [case["id"] for case in doc["cases"]]
    assert len(ids) == len(set(ids)), "case ids are unique within a suite"


def test_the_format_check_finds_what_breaks_the_format() -> None:
    broken = {
        "id": "x",
        "turns": [
            {
                "say": "hi",
                "expect": {
                    "route": "agent",
                    "reasons": ["because"],
                    "tools": [
                        {"name": "refund_order"},
                        {"name": "lookup_order", "args": {"order_id": 1042}},
                    ],
                    "facts": [3],
                    "cites": ["no-such-article"],
                },
            }
        ],
    }
    assert len(_case_problems(broken)) == 6


def test_the_bundled_suite_has_at_least_150_cases_and_a_ci_subset() -> None:
    assert len(CASES) >= 150
    ci = [case["id"] for _, case in CASES if "ci" in case.get("tags", [])]
    assert 8 <= len(ci) <= 15
    assert {"orders", "policies", "followups", "authorization", "handoff"} <= set(SUITES)
    assert {"injection", "high_value", "chitchat"} <= set(SUITES)


def test_the_suites_readme_states_the_real_size() -> None:
    """bot/data/eval/README.md: its totals, its table (a row per suite file, with its cases and
    turns) and its count of ci cases are those of the suite files."""
    readme = (EVAL / "README.md").read_text(encoding="utf-8")
    turns = sum(len(case["turns"]) for _, case in CASES)
    assert f"**{len(CASES)} cases, {turns} graded turns**, in\n{len(SUITES)} suites" in readme
    table = {
        m[1]: (int(m[2]), int(m[3]))
        for m in re.finditer(r"^\| `(\w+)` \| (\d+) \| (\d+) \|", readme, re.MULTILINE)
    }
    assert table == {
        name: (len(suite["cases"]), sum(len(c["turns"]) for c in suite["cases"]))
        for name, suite in SUITES.items()
    }
    ci = sum(1 for _, case in CASES if "ci" in case.get("tags", []))
    assert f"`ci` marks {ci} fast cases" in readme


def _looked_up(case: dict[str, Any]) -> Iterator[str]:
    for turn in case["turns"]:
        for tool in turn["expect"].get("tools", []):
            if tool["name"] == ToolName.LOOKUP_ORDER and "order_id" in tool.get("args", {}):
                yield str(tool["args"]["order_id"]).strip().lstrip("#")


def test_order_ids_in_tool_args_exist_or_the_case_is_tagged_missing() -> None:
    unknown = [
        (name, case["id"], order_id)
        for name, case in CASES
        for order_id in _looked_up(case)
        if order_id not in ORDERS and "missing" not in case.get("tags", [])
    ]
    assert unknown == []
    tagged = [case["id"] for _, case in CASES if "missing" in case.get("tags", [])]
    assert all(any(o not in ORDERS for o in _looked_up(c)) for _, c in CASES if c["id"] in tagged)


def test_the_eval_orders_are_a_superset_of_the_demo_orders() -> None:
    demo = parse_order_file((DATA / "demo_orders.json").read_text(encoding="utf-8"), "demo.json")
    assert all(ORDERS[o.order_id] == o for o in demo)
    assert len(ORDERS) >= 30
    assert len({o.customer_email for o in ORDERS.values()}) >= 10
    assert {"processing", "shipped", "delivered", "cancelled", "returned"} <= {
        o.status for o in ORDERS.values()
    }
    assert sum(o.total > HIGH_VALUE for o in ORDERS.values()) >= 3
    assert all(o.total == sum(i.price * i.quantity for i in o.items) for o in ORDERS.values())


def test_the_eval_articles_are_a_superset_of_the_demo_articles() -> None:
    demo = {Path(i).stem: a for i, (_, a) in read_folder(DATA / "knowledge").items()}
    assert all(ARTICLES[slug] == article for slug, article in demo.items())
    assert all(a.url and a.title for a in ARTICLES.values())
    urls = [a.url for a in ARTICLES.values()]
    assert len(urls) == len(set(urls))


def _injected(texts: list[str]) -> bool:
    return any(check_tool_output(t) for t in texts)


def test_the_shop_carries_injections_in_order_fields_and_in_one_article() -> None:
    injected = [
        o.order_id for o in ORDERS.values() if _injected([o.note or "", *(i.name for i in o.items)])
    ]
    assert 2 <= len(injected) <= 3
    assert [slug for slug, a in ARTICLES.items() if _injected([a.body])] == ["rewards"]


@dataclass
class Shop:
    orders: SqlOrders
    knowledge: KnowledgeBase


@pytest.fixture
async def shop(database_url: str) -> AsyncIterator[Shop]:
    """The eval shop loaded as the eval loads it: orders through the import, articles indexed."""
    db = Database(database_url)
    await db.upgrade()
    text = (EVAL / "orders.json").read_text(encoding="utf-8")
    assert await import_orders(db, parse_order_file(text, "orders.json")) == len(ORDERS)
    assert (await reindex(db, EVAL / "knowledge")).added == len(ARTICLES)
    knowledge = KnowledgeBase(db, EVAL / "knowledge", check_interval=3600)
    yield Shop(SqlOrders(db), knowledge)
    knowledge.close()
    await db.close()


async def _outcomes(shop: Shop, case: dict[str, Any], turn: dict[str, Any]) -> list[ToolOutcome]:
    """What the expected tool calls return to this asker (a search asks the customer's words)."""
    email = case.get("customer")
    asker = Asker("UEVAL", email.lower() if email else None, bool(case.get("lead")))
    toolbox = Toolbox(ToolContext(asker, shop.orders, shop.knowledge), 4000)
    outcomes = []
    for number, tool in enumerate(turn["expect"].get("tools", [])):
        args = tool.get("args", {})
        if tool["name"] == ToolName.SEARCH_HELP_CENTER:
            args = {"query": turn["say"]}
        outcomes.append(await toolbox.run(ToolCall(f"call_{number}", tool["name"], args)))
    return outcomes


def _policy_route(says: list[str], outcomes: list[ToolOutcome]) -> tuple[str, set[str]]:
    """The route the pipeline takes for the last of `says` when the model calls the expected
    tools and answers confidently (bot/agent/pipeline.py); the strong tier, told to call the
    tools again for any fact it states, gets the same tool results."""
    text = says[-1]
    early = before_model(
        Situation(
            ModelTier.PRIMARY,
            findings=[Finding(f.check, f.rule) for f in check_input(text)],
            asked_for_human=asks_for_human(text),
            complaints=sum(says_answer_was_wrong(s) for s in says),
        ),
        POLICY,
    )
    if early is not None:
        return "person", {str(r) for r in early.reasons}
    if any(o.not_linked for o in outcomes):
        return "answer", set()  # the fixed "link your account" reply
    primary = Situation(
        ModelTier.PRIMARY,
        confidence=0.9,
        findings=[Finding(f.check, f.rule) for o in outcomes for f in o.findings],
        denied_tool_calls=sum(o.denied for o in outcomes),
        order_totals=[t for o in outcomes for t in o.order_totals],
    )
    verdict = decide(primary, POLICY)
    if verdict.decision == Decision.STRONG:
        final = decide(replace(primary, tier=ModelTier.STRONG), POLICY)
        if final.decision == Decision.ANSWER:
            return "strong", {str(r) for r in verdict.reasons}
        return "person", {str(r) for r in verdict.reasons + final.reasons}
    route = "person" if verdict.decision == Decision.HUMAN else "answer"
    return route, {str(r) for r in verdict.reasons}


def _cited_articles(outcomes: list[ToolOutcome]) -> set[str]:
    return {Path(i).stem for o in outcomes for i in o.articles}


async def _mismatches(shop: Shop, name: str, case: dict[str, Any]) -> list[str]:
    """Where the case expects what the pipeline would not do."""
    wrong, says, turns = [], [], case["turns"]
    for number, turn in enumerate(turns, start=1):
        where, expect = f"{name}/{case['id']} turn {number}", turn["expect"]
        says.append(turn["say"])
        outcomes = await _outcomes(shop, case, turn)
        route, reasons = _policy_route(says, outcomes)
        expected = set(expect.get("reasons", []))
        if route != expect["route"] or not expected <= reasons:
            wrong.append(
                f"{where}: expects {expect['route']} {sorted(expected)}, "
                f"the policy gives {route} {sorted(reasons)}"
            )
        if missing := set(expect.get("cites", [])) - _cited_articles(outcomes):
            wrong.append(f"{where}: the customer's words do not find {sorted(missing)}")
        if route == "person" and number < len(turns):
            wrong.append(f"{where}: a turn follows a handoff (a person holds the thread)")
    return wrong


async def test_every_expected_route_is_the_policys_on_the_eval_shop(shop: Shop) -> None:
    wrong = [w for name, case in CASES for w in await _mismatches(shop, name, case)]
    assert wrong == [], "\n".join(wrong)
