#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prometheus_textfile
short_description: Write the gpufleet facts as a node_exporter textfile-collector file, atomically
version_added: 0.1.0
description:
  - Renders the C(gpufleet_*) facts (GPU temperatures, junction, power, VRAM, ECC; disk use; SSD wear
    and projected days; Docker reclaimable bytes; benchmark time to first token and tokens/s; the status
    of every check) as Prometheus metrics in base units with HELP and TYPE lines, and writes them to
    O(path) through a temporary file in the same directory and a rename, so node_exporter never reads
    a half-written file.
  - Keeps C(gpufleet_last_success_timestamp_seconds) of the other cadences from the existing file and
    sets the one of O(cadence) to now.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change, and the diff, without writing.
  diff_mode:
    support: full
    description: Shows the file before and after.
options:
  path:
    description:
      - The C(.prom) file, in the directory node_exporter reads with C(--collector.textfile.directory).
    type: path
    required: true
  facts:
    description:
      - The facts to export, a dict of C(gpufleet_*) facts (for example C(ansible_facts) filtered to them).
    type: dict
    default: {}
  cadence:
    description:
      - The cadence whose successful run this write records (C(daily), C(weekly), ...). Omit to leave the
        last-run times as they are.
    type: str
  missing_dir:
    description:
      - What to do when the directory of O(path) does not exist (no node_exporter on that host),
        C(fail), or C(skip) to report it and write nothing.
    type: str
    choices: [fail, skip]
    default: fail
  mode:
    description: File mode of the written file.
    type: raw
    default: "0644"
notes:
  - Metric names and their labels are listed in the collection's C(docs/metrics.md).
  - The file is rewritten on every run that sets O(cadence), since the last-run time is part of it; the
    task reports C(changed) only when another metric moved.
seealso:
  - name: node_exporter textfile collector
    description: How node_exporter reads C(.prom) files.
    link: https://github.com/prometheus/node_exporter#textfile-collector
"""

EXAMPLES = r"""
- name: Export this host's gpufleet facts after the daily run
  gpufleet.maintenance.prometheus_textfile:
    path: /var/lib/prometheus/node-exporter/gpufleet.prom
    facts: "{{ ansible_facts | dict2items | selectattr('key', 'match', '^gpufleet_') | items2dict }}"
    cadence: daily
"""

RETURN = r"""
path:
  description: The file written.
  returned: always
  type: str
  sample: /var/lib/prometheus/node-exporter/gpufleet.prom
samples:
  description: Number of samples in the file.
  returned: always
  type: int
  sample: 42
skipped_reason:
  description: Why nothing was written (O(missing_dir=skip) and no directory).
  returned: when skipped
  type: str
  sample: directory /var/lib/prometheus/node-exporter does not exist
diff:
  description: The file before and after (with C(--diff)).
  returned: when diff mode is on and the file changes
  type: dict
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.prom import textfile, without_last_success


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            facts=dict(type="dict", default={}),
            cadence=dict(type="str"),
            mode=dict(type="raw", default="0644"),
            missing_dir=dict(type="str", choices=["fail", "skip"], default="fail"),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory) and module.params["missing_dir"] == "skip":
        module.exit_json(changed=False, path=path, samples=0, skipped_reason="directory %s does not exist (no "
                         "node_exporter textfile collector on this host)" % directory)
    if not os.path.isdir(directory):
        module.fail_json(msg="writing metrics: directory %s does not exist (is node_exporter's textfile "
                             "collector directory set up? metrics_export_create_dir creates it)" % directory)
    previous = ""
    if os.path.exists(path):
        try:
            with open(path, "r") as handle:
                previous = handle.read()
        except (IOError, OSError) as exc:
            module.fail_json(msg="reading %s: %s" % (path, to_native(exc)))
    content, samples = textfile(module.params["facts"], cadence=module.params["cadence"],
                                now=round(time.time(), 3), previous_text=previous)
    # Refreshing only the last-run time is bookkeeping, not a change of state: the file is rewritten
    # but the task reports changed only when a metric other than that moved (so cadences stay idempotent).
    changed = without_last_success(content) != without_last_success(previous)
    result = dict(changed=changed, path=path, samples=samples)
    if changed and module._diff:
        result["diff"] = dict(before=previous, after=content, before_header=path, after_header=path)
    if content != previous and not module.check_mode:
        fd, tmp = tempfile.mkstemp(prefix=".gpufleet-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
            module.set_mode_if_different(tmp, module.params["mode"], False)
            os.rename(tmp, path)
        except (IOError, OSError) as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            module.fail_json(msg="writing %s: %s" % (path, to_native(exc)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
