"""``python -m pumpsim``."""

import sys

from pumpsim.cli import main

sys.exit(main())
