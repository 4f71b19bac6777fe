"""The model adapters through `ModelFactory`, with the real SDKs against the fake servers: tool
calls parsed, usage normalised, the request shaped for caching and tool use, the transcript
converted, and every failure named by kind."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from bot.agent.models import ModelFactory
from bot.agent.models.base import (
    ChatMessage,
    ChatRequest,
    ModelResponse,
    Provider,
    TokenUsage,
    ToolCall,
)
from bot.agent.models.providers import PROVIDERS
from bot.agent.tools import TOOL_SPECS
from bot.config import Settings, load_settings
from bot.errors import ConfigError, ProviderError
from tests.fakes.models import FakeAnthropic, FakeOpenAI, Turn

ANTHROPIC = "anthropic:claude-haiku-4-5"
OPENAI = "openai:gpt-4o-mini"
TOOL_SPECS_FILE = Path(__file__).parent / "data" / "tool_specs.json"
# The SDKs retry twice on their own; every attempt must meet the fault.
SDK_ATTEMPTS = 3
# Ask the SDK to retry after 1 ms instead of its backoff of half a second and more.
FAST_RETRY = {"retry-after-ms": "1"}


async def complete(
    settings: Any,
    ref: str,
    messages: list[ChatMessage] | None = None,
    *,
    require_tool: bool = True,
) -> ModelResponse:
    factory = ModelFactory(settings)
    try:
        model = factory.build(ref)
        request = ChatRequest(
            system="You are the support assistant of Acme Shop.",
            messages=messages or [ChatMessage("user", text="where is my order 1042?")],
            tools=TOOL_SPECS,
            require_tool=require_tool,
            max_tokens=256,
        )
        return await model.complete(request)
    finally:
        await factory.close()


async def failure_kind(settings: Any, ref: str) -> str:
    with pytest.raises(ProviderError) as info:
        await complete(settings, ref)
    return info.value.kind


def closed_port_url(path: str = "") -> str:
    """A local URL where nothing listens: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def two_lookups_transcript() -> list[ChatMessage]:
    return [
        ChatMessage("user", text="where are 1042 and 1043?"),
        ChatMessage(
            "assistant",
            text="Let me look.",
            tool_calls=[
                ToolCall("call_a", "lookup_order", {"order_id": "1042"}),
                ToolCall("call_b", "lookup_order", {"order_id": "1043"}),
            ],
        ),
        ChatMessage("tool", text='{"order": {"status": "shipped"}}', tool_call_id="call_a"),
        ChatMessage("tool", text='{"error": "not found"}', tool_call_id="call_b", is_error=True),
    ]


# --- tool calls -----------------------------------------------------------------------------


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_a_tool_call_is_parsed_with_its_id_name_and_arguments(
    make_settings: Any, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, ref: str
) -> None:
    fake = fake_anthropic if ref == ANTHROPIC else fake_openai
    fake.script.append(
        Turn(text="Checking.", tool_calls=[("lookup_order", {"order_id": "1042", "n": [1, 2]})])
    )
    resp = await complete(make_settings(), ref)

    [call] = resp.tool_calls
    assert call.name == "lookup_order"
    assert call.arguments == {"order_id": "1042", "n": [1, 2]}
    assert call.id.startswith("toolu_" if ref == ANTHROPIC else "call_") and len(call.id) > 6
    assert resp.text == "Checking."
    assert resp.stop_reason == ("tool_use" if ref == ANTHROPIC else "tool_calls")


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_several_tool_calls_of_one_turn_are_all_parsed_in_order(
    make_settings: Any, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, ref: str
) -> None:
    fake = fake_anthropic if ref == ANTHROPIC else fake_openai
    fake.script.append(
        Turn(
            tool_calls=[
                ("lookup_order", {"order_id": "1042"}),
                ("list_my_orders", {}),
            ]
        )
    )
    resp = await complete(make_settings(), ref)
    assert [(c.name, c.arguments) for c in resp.tool_calls] == [
        ("lookup_order", {"order_id": "1042"}),
        ("list_my_orders", {}),
    ]
    assert len({c.id for c in resp.tool_calls}) == 2


# --- usage ----------------------------------------------------------------------------------


async def test_anthropic_usage_counts_cache_reads_and_writes_as_input(
    make_settings: Any, fake_anthropic: FakeAnthropic
) -> None:
    # Anthropic reports 120 uncached + 2000 read from cache + 300 written to cache = 2420 input.
    fake_anthropic.script.append(
        Turn(text="hi", input_tokens=120, cache_read=2000, cache_write=300, output_tokens=45)
    )
    resp = await complete(make_settings(), ANTHROPIC)
    assert resp.usage == TokenUsage(
        input_tokens=2420, cached_input_tokens=2000, cache_write_tokens=300, output_tokens=45
    )
    # The provider's own figures are kept as they came.
    assert resp.usage_raw["input_tokens"] == 120
    assert resp.usage_raw["cache_read_input_tokens"] == 2000
    assert resp.usage_raw["cache_creation_input_tokens"] == 300
    assert resp.usage_raw["output_tokens"] == 45


async def test_anthropic_usage_without_caching_is_just_the_input(
    make_settings: Any, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script.append(
        Turn(text="hi", input_tokens=700, cache_read=0, cache_write=0, output_tokens=9)
    )
    resp = await complete(make_settings(), ANTHROPIC)
    assert resp.usage == TokenUsage(700, 0, 0, 9)


async def test_openai_usage_prompt_tokens_already_include_the_cached_ones(
    make_settings: Any, fake_openai: FakeOpenAI
) -> None:
    # OpenAI: prompt_tokens 2500 of which 2048 cached; no separate cache-write charge.
    fake_openai.script.append(Turn(text="hi", input_tokens=2500, cache_read=2048, output_tokens=37))
    resp = await complete(make_settings(), OPENAI)
    assert resp.usage == TokenUsage(
        input_tokens=2500, cached_input_tokens=2048, cache_write_tokens=0, output_tokens=37
    )
    assert resp.usage_raw["prompt_tokens"] == 2500
    assert resp.usage_raw["prompt_tokens_details"]["cached_tokens"] == 2048
    assert resp.usage_raw["completion_tokens"] == 37


# --- the request ----------------------------------------------------------------------------


async def test_anthropic_request_marks_system_and_last_tool_for_caching_and_requires_a_tool(
    make_settings: Any, fake_anthropic: FakeAnthropic
) -> None:
    await complete(make_settings(), ANTHROPIC)
    [req] = fake_anthropic.requests
    assert req["model"] == "claude-haiku-4-5"
    assert req["max_tokens"] == 256
    [system] = req["system"]
    assert system["text"] == "You are the support assistant of Acme Shop."
    assert system["cache_control"] == {"type": "ephemeral"}
    assert [t["name"] for t in req["tools"]] == [t.name for t in TOOL_SPECS]
    assert req["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    # Only the end of the stable prefix is marked.
    assert all("cache_control" not in t for t in req["tools"][:-1])
    assert req["tools"][0]["input_schema"] == TOOL_SPECS[0].parameters
    assert req["tool_choice"] == {"type": "any"}


async def test_openai_request_has_system_first_tools_as_functions_and_requires_a_tool(
    make_settings: Any, fake_openai: FakeOpenAI
) -> None:
    await complete(make_settings(), OPENAI)
    [req] = fake_openai.requests
    assert req["model"] == "gpt-4o-mini"
    assert req["messages"][0] == {
        "role": "system",
        "content": "You are the support assistant of Acme Shop.",
    }
    assert [t["function"]["name"] for t in req["tools"]] == [t.name for t in TOOL_SPECS]
    assert all(t["type"] == "function" for t in req["tools"])
    assert req["tools"][0]["function"]["parameters"] == TOOL_SPECS[0].parameters
    assert req["tool_choice"] == "required"


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_tool_choice_is_auto_when_a_tool_is_not_required(
    make_settings: Any, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, ref: str
) -> None:
    await complete(make_settings(), ref, require_tool=False)
    if ref == ANTHROPIC:
        assert fake_anthropic.requests[0]["tool_choice"] == {"type": "auto"}
    else:
        assert fake_openai.requests[0]["tool_choice"] == "auto"


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_the_tool_specs_each_provider_receives_are_pinned(
    make_settings: Any, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, ref: str
) -> None:
    # Byte for byte (key order included): a changed spec breaks the providers' prompt caches
    # and changes what the model is told. Change tests/data/tool_specs.json only on purpose.
    fake = fake_anthropic if ref == ANTHROPIC else fake_openai
    fake.script.append(Turn(text="ok"))
    await complete(make_settings(), ref)
    pinned = json.loads(TOOL_SPECS_FILE.read_text(encoding="utf-8"))[ref.partition(":")[0]]
    assert json.dumps(fake.requests[0]["tools"], indent=1) == json.dumps(pinned, indent=1)


# --- transcript conversion ------------------------------------------------------------------


async def test_anthropic_transcript_groups_the_tool_results_of_one_turn_in_one_user_turn(
    make_settings: Any, fake_anthropic: FakeAnthropic
) -> None:
    await complete(make_settings(), ANTHROPIC, two_lookups_transcript())
    messages = fake_anthropic.requests[0]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == [{"type": "text", "text": "where are 1042 and 1043?"}]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "call_a", "name": "lookup_order", "input": {"order_id": "1042"}},
        {"type": "tool_use", "id": "call_b", "name": "lookup_order", "input": {"order_id": "1043"}},
    ]
    assert messages[2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "call_a",
            "content": '{"order": {"status": "shipped"}}',
            "is_error": False,
        },
        {
            "type": "tool_result",
            "tool_use_id": "call_b",
            "content": '{"error": "not found"}',
            "is_error": True,
        },
    ]


async def test_openai_transcript_sends_each_tool_result_as_a_tool_message(
    make_settings: Any, fake_openai: FakeOpenAI
) -> None:
    await complete(make_settings(), OPENAI, two_lookups_transcript())
    messages = fake_openai.requests[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool"]
    assert messages[1] == {"role": "user", "content": "where are 1042 and 1043?"}
    assistant = messages[2]
    assert assistant["content"] == "Let me look."
    assert [
        (c["id"], c["type"], c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in assistant["tool_calls"]
    ] == [
        ("call_a", "function", "lookup_order", {"order_id": "1042"}),
        ("call_b", "function", "lookup_order", {"order_id": "1043"}),
    ]
    assert messages[3] == {
        "role": "tool",
        "tool_call_id": "call_a",
        "content": '{"order": {"status": "shipped"}}',
    }
    assert messages[4] == {
        "role": "tool",
        "tool_call_id": "call_b",
        "content": '{"error": "not found"}',
    }


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, "rate_limited"), (529, "overloaded"), (500, "server_error"), (400, "bad_request")],
)
async def test_an_http_error_is_named_by_its_kind(
    make_settings: Any,
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    ref: str,
    status: int,
    kind: str,
) -> None:
    fake = fake_anthropic if ref == ANTHROPIC else fake_openai
    fake.fail(status, headers=FAST_RETRY, times=SDK_ATTEMPTS)
    assert await failure_kind(make_settings(), ref) == kind
    assert fake.requests  # the call did reach the (failing) provider


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_a_retried_error_that_clears_up_gives_a_normal_answer(
    make_settings: Any, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, ref: str
) -> None:
    fake = fake_anthropic if ref == ANTHROPIC else fake_openai
    fake.fail(529 if ref == ANTHROPIC else 503, headers=FAST_RETRY, times=1)
    fake.script.append(Turn(tool_calls=[("list_my_orders", {})]))
    resp = await complete(make_settings(), ref)
    assert [c.name for c in resp.tool_calls] == ["list_my_orders"]
    assert len(fake.requests) == 2


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_an_unreachable_provider_is_a_connection_error(make_settings: Any, ref: str) -> None:
    settings = make_settings(
        anthropic_base_url=closed_port_url(),
        openai_base_url=closed_port_url("/v1"),
        model_timeout_seconds=2,
    )
    assert await failure_kind(settings, ref) == "connection"


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_a_provider_slower_than_the_timeout_is_a_timeout(
    make_settings: Any, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, ref: str
) -> None:
    fake = fake_anthropic if ref == ANTHROPIC else fake_openai
    fake.delay = 0.5
    assert await failure_kind(make_settings(model_timeout_seconds=0.1), ref) == "timeout"


# --- the provider table ---------------------------------------------------------------------


def test_an_unknown_provider_is_refused_naming_the_setting_and_the_known_providers() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, strong_model="mistral:mistral-large")
    message = str(info.value)
    assert "SUPPORTBOT_STRONG_MODEL" in message and "'mistral:mistral-large'" in message
    assert f"one of {', '.join(Provider)} " in message


@pytest.mark.parametrize("provider", list(Provider))
def test_every_provider_in_use_says_which_credential_it_lacks(provider: Provider) -> None:
    ref = f"{provider}:some-model"
    settings = Settings(_env_file=None, primary_model=ref, strong_model=ref)
    with pytest.raises(ConfigError) as info:
        settings.check_chat()
    assert f"{provider.upper()}_API_KEY is not set" in str(info.value)


def test_every_provider_has_its_row_in_the_table() -> None:
    assert list(PROVIDERS) == list(Provider)


def test_a_provider_not_in_use_needs_no_credential() -> None:
    ref = "openai:gpt-4o-mini"
    Settings(_env_file=None, primary_model=ref, strong_model=ref, openai_api_key="k").check_chat()


async def test_an_openai_compatible_server_needs_only_openai_base_url(
    make_settings: Any, fake_openai: FakeOpenAI
) -> None:
    # README: OPENAI_BASE_URL=http://localhost:11434/v1, SUPPORTBOT_PRIMARY_MODEL=openai:llama3.1,
    # a key optional.
    ref = "openai:llama3.1"
    settings = make_settings(openai_api_key="", primary_model=ref, strong_model=ref)
    settings.check_chat()
    fake_openai.script.append(Turn(text="hello"))
    resp = await complete(settings, ref)
    assert resp.text == "hello"
    assert [r["model"] for r in fake_openai.requests] == ["llama3.1"]


async def test_a_fine_tuned_openai_model_is_accepted_and_asked_by_its_whole_id(
    make_settings: Any, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README, Fine-tuning: SUPPORTBOT_PRIMARY_MODEL=openai:ft:... (an id with colons of its
    own) is a valid setting, and the request names the whole id."""
    tuned = "ft:gpt-4o-mini-2024-07-18:acme-support::9xYzAbCd"
    monkeypatch.setenv("SUPPORTBOT_PRIMARY_MODEL", f"openai:{tuned}")
    assert load_settings(_env_file=None).primary_model == f"openai:{tuned}"
    settings = make_settings(primary_model=f"openai:{tuned}")
    settings.check_chat()
    fake_openai.script.append(Turn(text="hello"))
    assert (await complete(settings, f"openai:{tuned}")).text == "hello"
    assert [r["model"] for r in fake_openai.requests] == [tuned]


@pytest.mark.parametrize("raw", ['{"order_id": "10', "[" * 100_000])
def test_tool_arguments_that_are_no_json_or_nest_too_deep_are_marked_not_raised(raw: str) -> None:
    """A model can send arguments Python's decoder refuses with RecursionError (no ValueError):
    the turn goes on with the call marked invalid."""
    from bot.agent.models.openai_chat import _arguments

    assert _arguments(raw) == {"_invalid_json": raw[:200]}
