"""``python -m harness`` is the ``cmhook`` command."""

import sys

from .cli import main

sys.exit(main())
