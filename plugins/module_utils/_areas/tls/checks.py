# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tls area's checks: certificate expiry of each front door. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

CHECKS = CheckTable(
    Check("tls_expiry", "Whether the front door answers with a certificate whose expiry date can be read.",
          subject=("endpoint",), fix="check that the front door (Caddy/nginx/Tailscale) is running and serves its certificate"),
    Check("tls_days_left", "Days until a front door's certificate expires.",
          subject=("endpoint",), thresholds=(("warn_days", 21), ("crit_days", 7)), unit=" days", higher_is_worse=False,
          fix="renew it (Caddy and Tailscale renew on their own: check their logs; certbot renew for nginx)",
          reads=("endpoints[].days_left",)),
)


def evaluate(data, params):
    limits = params["thresholds"]
    results = []
    for entry in data.get("endpoints") or []:
        subject = {"endpoint": entry["endpoint"]}
        if not entry["answered"]:
            results.append(CHECKS["tls_expiry"].result(
                "crit", None, limits["crit_days"],
                "TLS endpoint %s did not answer with a certificate (%s)" % (entry["endpoint"], entry["error"]),
                subject=subject))
        elif entry["days_left"] is None:
            results.append(CHECKS["tls_expiry"].result(
                "warn", None, limits["warn_days"], "TLS certificate of %s has %s" % (entry["endpoint"], entry["error"]),
                subject=subject, fix="read it by hand (openssl s_client -connect HOST:PORT | openssl x509 -noout -enddate)"))
        else:
            results.append(CHECKS["tls_days_left"].level(entry["days_left"], limits,
                                                         "TLS certificate of %s: days left" % entry["endpoint"],
                                                         subject=subject))
    return results
