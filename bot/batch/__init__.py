"""`supportbot eval --batch`: model calls sent through the providers' Batch APIs, round by
round, resumable after an interruption (`rounds.BatchRounds`)."""
