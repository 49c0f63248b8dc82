#!/bin/sh
# Keeps the stand-in runner alive, as systemd's Restart=always would: whenever it exits, start it again.
exec >/var/log/runner-supervisor.log 2>&1 </dev/null
echo $$ > /run/runner-supervisor.pid
while true; do
  python3 /opt/runner/runner.py /srv/models/gemma3 18080 &
  echo $! > /run/runner.pid
  wait $!
  sleep 0.2
done
