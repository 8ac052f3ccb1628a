#!/bin/bash
# systemd runs this (ExecStopPost) each time a talus daemon's process has ended, with how in $EXIT_CODE (exited,
# killed, dumped) and $EXIT_STATUS (an exit code or a signal name). It logs the line the runit finish script
# logs, so the same specs read both: "exit -1 9" in the event log is a KILL. bash, because dash's kill -l does
# not turn a signal name into its number.
if [ "$EXIT_CODE" = exited ]; then
  code=$EXIT_STATUS signal=0
else
  code=-1 signal=$(kill -l "$EXIT_STATUS")
fi
echo "$(date +%s.%3N) $1 exit $code $signal" >> /var/log/talus/events.log
