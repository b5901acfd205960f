"""``python -m simulators.demo`` (what ``make demo`` runs): the end-to-end demo.

The demo wires the simulated devices to the firmware hooks, and the import rule keeps
``simulators`` from importing ``firmware_hooks`` (devices never contain the hooks), so this
entry point replaces itself with ``python -m firmware_hooks.demo`` (same arguments, same
exit status).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.execv(sys.executable, [sys.executable, "-m", "firmware_hooks.demo", *sys.argv[1:]])


if __name__ == "__main__":
    main()
