"""`python -m xl_negcoke` is the `xl-negcoke` command."""

from xl_negcoke.cli import main

raise SystemExit(main())
