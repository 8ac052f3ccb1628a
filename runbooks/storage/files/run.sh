#!/bin/sh
# Keeps the object server up: whenever it exits, it starts again.
while true; do
    /usr/bin/python3 /usr/local/bin/server >>/var/log/server.log 2>&1
    sleep 0.2
done
