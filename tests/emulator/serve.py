"""Start the local AWS (moto + WorkMail mailbox export) in the foreground.

Usage: python tests/emulator/serve.py [--host 127.0.0.1] [--port N] [--fixture FILE] [--quiet]
Environment fallbacks: PORT (default 5080), EMULATOR_FIXTURE (default tests/emulator/fixtures/default.yml).
Prints ``endpoint=http://127.0.0.1:<port>`` once it answers; stops on SIGINT/SIGTERM.
"""

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run():
    """Import the emulator package from this directory and run its launcher."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    server = importlib.import_module("workmail_emulator.server")
    return server.main()


if __name__ == "__main__":
    sys.exit(run())
