"""Entry point for `python -m tier0_devenv`."""

import sys

from .cli import main

sys.exit(main())
