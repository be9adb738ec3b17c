"""``python -m keraspose`` runs the command line."""

import sys

from keraspose.cli import main

sys.exit(main())
