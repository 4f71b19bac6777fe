"""`python -m bot.cli`: the same as the `supportbot` console script."""

import sys

from bot.cli import main

sys.exit(main())
