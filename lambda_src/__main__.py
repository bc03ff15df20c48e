"""``python -m lambda_src``: the operator CLI (see ``cli.py``)."""

import sys

from .cli import main

sys.exit(main())
