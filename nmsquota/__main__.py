from nmsquota.cli import main

raise SystemExit(main())
