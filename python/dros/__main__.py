from dros.cli import main

raise SystemExit(main())
