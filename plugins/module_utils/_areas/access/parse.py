# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx's access log in the ``combined`` format, read into a week's tally.

``log_format combined '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
"$http_referer" "$http_user_agent"'`` (nginx's ngx_http_log_module, the format of Debian's default
``access_log /var/log/nginx/access.log``, which the runner_service front door writes to). Fields nginx
appends after the user agent in a custom format (``"$http_x_forwarded_for"``) are allowed; a line of
another format is counted as not parsed. Pure functions, no I/O, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import ipaddress
import re

_LINE = re.compile(r'^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" '
                   r'(?P<status>\d{3}) (?P<bytes>\d+|-) "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*"(?: .*)?$')
_TIME = re.compile(r"^(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")
_MONTHS = dict((name, number) for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1))

# Loopback, the private ranges (RFC 1918, RFC 4193 unique local), link-local and the CGNAT range
# Tailscale hands out: the clients a front door on a LAN or tailnet expects. Anything else is unknown.
DEFAULT_KNOWN = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
                 "169.254.0.0/16", "fe80::/10", "100.64.0.0/10")
TOP = 10   # entries kept of each list in the fact (unknown clients, bursts)


def time_local(text):
    """Unix seconds of nginx's ``$time_local`` (``10/Oct/2000:13:55:36 -0700``), or None.

    The month names are nginx's (English, whatever the locale), so no locale-dependent ``strptime``."""
    match = _TIME.match(text or "")
    if not match or match.group(2) not in _MONTHS:
        return None
    day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
    try:   # datetime refuses 31 February, which timegm would roll over into March
        stamp = calendar.timegm(datetime.datetime(year, month, day, int(match.group(4)), int(match.group(5)),
                                                  int(match.group(6))).timetuple())
    except (ValueError, OverflowError):
        return None
    offset = (int(match.group(8)) * 3600 + int(match.group(9)) * 60) * (1 if match.group(7) == "+" else -1)
    return stamp - offset


def parse_line(line):
    """``{client, ts, status, method, path}`` of one combined-format line, or None for another format."""
    match = _LINE.match(line.rstrip("\r\n"))
    if not match:
        return None
    ts = time_local(match.group("time"))
    if ts is None:
        return None
    parts = match.group("request").split(" ")
    return {"client": match.group("client"), "ts": ts, "status": int(match.group("status")),
            "method": parts[0] if len(parts) == 3 else None, "path": parts[1] if len(parts) == 3 else None}


def networks(specs):
    """``[ip_network]`` of addresses and CIDR ranges (``10.0.0.0/8``, ``192.0.2.7``); ValueError names a bad one."""
    found = []
    for spec in specs:
        try:
            found.append(ipaddress.ip_network(u"%s" % spec, strict=False))
        except ValueError:
            raise ValueError("%r is not an address or a network (CIDR)" % spec)
    return found


def is_known(client, known):
    """Whether ``client`` (``$remote_addr``) is in one of the ``known`` networks; a Unix socket (``unix:``,
    a proxy on the same host) is known, any other text that is no address is not."""
    if client.startswith("unix:"):
        return True
    try:
        address = ipaddress.ip_address(u"%s" % client)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in known)


class Tally(object):
    """A window's requests, counted as they are read (the log is never held in memory).

    ``add(entry)`` takes a :func:`parse_line` result inside the window; :meth:`fact` gives the totals,
    the requests per hour, 4xx/5xx counts, the worst minutes of 401s and the clients outside ``known``.
    """

    def __init__(self, start, end, known):
        self.start, self.end, self.known = start, end, known
        self.requests = 0
        self.classes = {"1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}
        self.unauthorized = 0
        self.hours = {}          # hour start -> requests
        self.minutes_401 = {}    # minute start -> {client: 401s}
        self.clients = {}        # client -> [requests, 2xx, 401s]
        self.first = None        # the oldest request read at all (in the window or before it)

    def seen(self, ts):
        """Note a request's time even outside the window (how far back the log reaches)."""
        if self.first is None or ts < self.first:
            self.first = ts

    def add(self, entry):
        status = entry["status"]
        self.requests += 1
        key = "%dxx" % (status // 100)
        if key in self.classes:
            self.classes[key] += 1
        hour = entry["ts"] - entry["ts"] % 3600
        self.hours[hour] = self.hours.get(hour, 0) + 1
        counts = self.clients.setdefault(entry["client"], [0, 0, 0])
        counts[0] += 1
        if 200 <= status < 300:
            counts[1] += 1
        if status == 401:
            self.unauthorized += 1
            counts[2] += 1
            minute = self.minutes_401.setdefault(entry["ts"] - entry["ts"] % 60, {})
            minute[entry["client"]] = minute.get(entry["client"], 0) + 1

    def covered_hours(self):
        """Hours of the window the log covers: from the window's start, or from the oldest request read
        when the log begins later (a new front door, a rotation that was not kept)."""
        since = self.start if self.first is None or self.first <= self.start else self.first
        return max((self.end - since) / 3600.0, 1.0)

    def fact(self):
        hours = self.covered_hours()
        minutes = sorted(((sum(c.values()), minute, c) for minute, c in self.minutes_401.items()), key=lambda x: (-x[0], x[1]))
        unknown = sorted(((counts[0], client, counts) for client, counts in self.clients.items()
                          if not is_known(client, self.known)), key=lambda x: (-x[0], x[1]))
        peak = max(self.hours.items(), key=lambda item: (item[1], -item[0])) if self.hours else (None, 0)
        return {
            "requests": self.requests,
            "covered_hours": round(hours, 2),
            "requests_per_hour": round(self.requests / hours, 2),
            "peak_requests_per_hour": peak[1],
            "peak_hour_epoch": peak[0],
            "hours": [{"hour_epoch": hour, "requests": count} for hour, count in sorted(self.hours.items())],
            "status_classes": dict(self.classes),
            "client_errors_pct": _pct(self.classes["4xx"], self.requests),
            "server_errors": self.classes["5xx"],
            "server_errors_pct": _pct(self.classes["5xx"], self.requests),
            "unauthorized": self.unauthorized,
            "unauthorized_peak_per_min": minutes[0][0] if minutes else 0,
            "unauthorized_minutes": [{"minute_epoch": minute, "count": count,
                                      "top_client": max(sorted(c.items()), key=lambda item: item[1])[0]}
                                     for count, minute, c in minutes[:TOP]],
            "clients": len(self.clients),
            "unknown_clients": len(unknown),
            "unknown_client_list": [{"client": client, "requests": counts[0], "ok_2xx": counts[1], "unauthorized": counts[2]}
                                    for _n, client, counts in unknown[:TOP]],
        }


def _pct(part, whole):
    return round(100.0 * part / whole, 2) if whole else None
