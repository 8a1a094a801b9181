"""Entry point for `python -m tier0_devenv.node`."""

import sys

from .cli import main

sys.exit(main())
