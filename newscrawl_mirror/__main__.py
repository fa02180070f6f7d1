"""``python -m newscrawl_mirror``: serve the local mirror site."""

import sys

from newscrawl_mirror.server import main

if __name__ == "__main__":
    sys.exit(main())
