#!/bin/sh
# runsv starts this in the service's directory; talus.scenario.csx fills in the daemon's arguments.
exec 2>&1
exec python3 -u /opt/talus/bin/talus-service.py {name} {port} "{needs}" {flags}
