"""Customer accounts of Slack Connect channels (issue 15): views and the channel directory."""
