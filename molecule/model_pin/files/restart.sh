#!/bin/sh
# Stand-in for `systemctl restart runner`: stop the runner and wait for it to go; the supervisor starts it again.
old=$(cat /run/runner.pid)
kill "$old"
while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
