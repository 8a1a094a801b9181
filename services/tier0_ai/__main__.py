"""Entry point of ``python -m tier0_ai`` (see :mod:`.cli`)."""

import sys

from .cli import main

sys.exit(main())
