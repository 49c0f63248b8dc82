# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The front doors' certificates from ``community.crypto.get_certificate`` loop results.

The certificates are read on the controller (what users reach), so this area has no collector on
the host: ``tls_facts`` turns the results into the fact. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime


def parse_not_after(text):
    """``20270101120000Z`` (get_certificate) → aware datetime, or None."""
    try:
        return datetime.datetime.strptime(str(text), "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def endpoint_name(item):
    """The loop item ``{name, host, port}`` → ``caddy`` or ``box.example:443``."""
    item = item or {}
    return item.get("name") or "%s:%s" % (item.get("host"), item.get("port", 443))


def endpoints(results, now):
    """``[{endpoint, answered, not_after, days_left, subject, error}]``, one per result."""
    entries = []
    for result in results or []:
        answered = not (result.get("failed") or result.get("unreachable"))
        entry = {"endpoint": endpoint_name(result.get("item")), "answered": answered, "not_after": None,
                 "days_left": None, "subject": None, "error": None}
        if not answered:
            entry["error"] = str(result.get("msg") or "no answer")
        else:
            expires = parse_not_after(result.get("not_after"))
            subject = result.get("subject") or {}
            entry["subject"] = subject.get("commonName") or subject.get("CN")
            if expires is None:
                entry["error"] = "no readable expiry date (%r)" % (result.get("not_after"),)
            else:
                entry["not_after"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
                entry["days_left"] = round((expires - now).total_seconds() / 86400.0, 1)
        entries.append(entry)
    return entries
