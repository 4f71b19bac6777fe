"""The ticket lifecycle of a conversation (issue 15): the events staff cause."""
