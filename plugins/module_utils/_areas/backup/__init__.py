# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``backup`` (fact ``gpufleet_backup``), set by the operation module ``backup_snapshot`` (mode drill).

Not gathered by ``health_facts`` (no collector): ``_ops/backup_snapshot.py`` restores a snapshot
into a scratch directory and reads it (``collect.restored``), then :func:`build_fact` judges it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import checks, parse, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading


def _check_options(params):
    """What the argument spec cannot say: a plain snapshot name, and a series that ``name`` belongs to
    when retention (``keep``) is asked for."""
    name = params["name"]
    if "/" in name or name in ("", ".", ".."):
        return ["snapshot name %r must be a plain directory name such as 2026-11" % name]
    if params["keep"] and not (parse.valid_name(params["series"]) and parse.in_series(name, params["series"])):
        return ["keep needs series, and name %r must be <series>-<stamp> with a stamp that starts with a digit (series %r)"
                % (name, params["series"])]
    return []


AREA = Area(
    "backup", "backup",
    summary="rsync hard-link snapshots and the restore drill that verifies every checksum of a snapshot",
    module="backup_snapshot",
    options=dict(
        mode=dict(type="str", choices=["snapshot", "drill"], default="snapshot"),
        target=dict(type="str", required=True),
        name=dict(type="str", required=True),
        sources=dict(type="list", elements="path", default=[]),
        weights=dict(type="list", elements="path", default=[]),
        model_manifest=dict(type="path"),
        state_dir=dict(type="path", default="/var/lib/gpufleet/backup"),
        scratch=dict(type="path"),
        keep_scratch=dict(type="bool", default=False),
        rsh=dict(type="str", default="ssh"),
        rsync=dict(type="path"),
        timeout_s=dict(type="int", default=21600),
        docker_volumes=dict(type="list", elements="str", default=[]),
        docker_volume_dir=dict(type="path"),
        docker_volume_image=dict(type="str"),
        docker_host=dict(type="str"),
        docker_timeout_s=dict(type="int", default=600),
        series=dict(type="str", default=""),
        keep=dict(type="int", default=0),
    ),
    ranges={"timeout_s": (1, None), "docker_timeout_s": (1, None), "keep": (0, None)},
    check_options=_check_options,
    checks=checks.CHECKS,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(Reading("files_checked"),),
)


def build_fact(target, snapshot, restore, data=None):
    """The ``gpufleet_backup`` fact of one drill: ``restore`` is ``{error, reached}`` of the restore
    (``error`` None when it worked), ``data`` what ``collect.restored`` read (None when it did not)."""
    found, checked = checks.problems(data) if data is not None else ([], 0)
    fact = {"schema_version": AREA.schema_version, "target": target, "snapshot": snapshot, "files_checked": checked,
            "problems": found}
    results = checks.evaluate(dict(fact, restore=restore))
    fact.update(checks=results, status=worst_status(results))
    return fact
