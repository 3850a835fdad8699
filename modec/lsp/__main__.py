"""``python -m modec.lsp``: the language server on stdio."""

import sys

from modec.diagnostics import ModecError
from modec.lsp import main

try:
    main()
except ModecError as exc:
    print(f"error: {exc.message}\nhelp: {exc.suggestion}", file=sys.stderr)
    sys.exit(2)
