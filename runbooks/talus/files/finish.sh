#!/bin/sh
# runsv runs this in the service's directory after the daemon exits, with its exit code (-1 when signalled) and
# the signal number: "exit -1 9" in the event log is a KILL.
echo "$(date +%s.%3N) $(basename "$PWD") exit $1 $2" >> /var/log/talus/events.log
