"""``python -m app``: the same commands as ``agno-session-service``."""

import sys

from .cli import main

sys.exit(main())
