"""The help-center search tool, over the knowledge base (`bot.knowledge`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.agent.tools.base import Tool, ToolContext, ToolName, ToolResult


class SearchHelpCenterArgs(BaseModel):
    query: str = Field(
        description="What to look for in the help center, in plain words, e.g. 'return shoes'.",
        min_length=1,
        max_length=500,
    )


async def search_help_center(context: ToolContext, args: SearchHelpCenterArgs) -> ToolResult:
    if context.knowledge is None:
        return ToolResult.error("The help center is not available.")
    hits = await context.knowledge.search(args.query)
    articles = [{"id": h.id, "title": h.title, "url": h.url, "snippet": h.snippet} for h in hits]
    return ToolResult({"articles": articles}, articles={h.id: (h.title, h.url) for h in hits})


SEARCH_HELP_CENTER = Tool(
    ToolName.SEARCH_HELP_CENTER,
    "Search the help-center articles (returns, shipping, tracking, payments, account). "
    "Returns up to 3 articles with id, title, url and a snippet.",
    SearchHelpCenterArgs,
    search_help_center,
)
