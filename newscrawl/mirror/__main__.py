"""``python -m newscrawl.mirror``: serve the local mirror site."""

import sys

from newscrawl.mirror.server import main

if __name__ == "__main__":
    sys.exit(main())
