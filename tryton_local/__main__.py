"""`make tryton` / `make tryton-stop`: a Tryton ERP on TRYTON_URL (default :8010) for the demo.

python -m tryton_local start    # install, seed (first run ~2 min), start; returns
python -m tryton_local stop     # stop trytond and its PostgreSQL cluster
python -m tryton_local reset    # stop and forget the ERP's data (next start is fresh)
"""

from __future__ import annotations

import argparse
import shutil
import sys

from infra.processes import port_open
from infra.settings import Settings
from tryton_local.instance import local_instance


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tryton_local", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "reset"])
    command = parser.parse_args().command
    instance = local_instance(Settings.from_env())
    if command == "start":
        if port_open("127.0.0.1", instance.port):
            print(f"something already answers on {instance.url}; `make tryton-stop` first?")
            return 0 if instance.pidfile.exists() else 1
        print(f"starting Tryton on {instance.url} (database in {instance.directory}) …")
        instance.start(lambda step: print(step, flush=True))
        print(f"Tryton is up on {instance.url}, database `retail`, user admin/admin")
        return 0
    instance.stop()
    if command == "reset":
        shutil.rmtree(instance.directory, ignore_errors=True)
    print("Tryton stopped" + (" and its data removed" if command == "reset" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
