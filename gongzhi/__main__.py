from gongzhi.cli import main

raise SystemExit(main())
