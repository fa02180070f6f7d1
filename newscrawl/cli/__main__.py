"""``python -m newscrawl.cli``: the newscrawl command."""

from newscrawl.cli.main import main

raise SystemExit(main())
