import sys

from uptimeguard.cli import main

sys.exit(main())
