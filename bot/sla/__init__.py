"""Business-hours SLAs of the ticket lifecycle (issue 15): calendar, policy, lifecycle."""
