from offconvex.cli import main

raise SystemExit(main())
