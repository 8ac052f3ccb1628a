#!/bin/sh
# The daemon's output, timestamped, in ./main/current: what the runbook quotes when a daemon does not come back.
exec svlogd -tt ./main
