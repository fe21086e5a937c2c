"""`python -m bench.races`: see bench/races/__init__.py."""

import sys

from bench.races import main

sys.exit(main())
