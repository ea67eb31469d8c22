from __future__ import annotations

import sys

from bench.run import main

try:
    raise SystemExit(main())
except KeyboardInterrupt:
    # The server, worker and carrier were already stopped on the way out of main().
    print("bench: interrupted; everything it started is stopped", file=sys.stderr)
    raise SystemExit(130) from None
