#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: package_pin
short_description: Hold Debian/Ubuntu packages at the version that works, and report drift
version_added: 0.1.0
description:
  - Holds packages with C(apt-mark hold) (dpkg selections) and, optionally, pins them at a
    version with an APT preferences file (priority 1001) and adds them to
    C(Unattended-Upgrade::Package-Blacklist) in an apt.conf.d file of its own, so that
    C(apt-get upgrade), C(dist-upgrade) and unattended-upgrades leave them alone.
  - Package names may be shell globs (C(nvidia-driver-*)); a glob pins every installed package
    it matches (from C(dpkg-query)), an exact name must be installed unless O(missing_ok).
  - Reports per package the installed, candidate and pinned versions, the hold before and after,
    and drift (the installed version is not the pinned one, or a recorded hold was lost).
  - Plans first, then applies in one step; check mode returns the plan and diff mode shows the
    hold states and the files it writes.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Returns the plan without changing holds or files.
  diff_mode:
    support: full
    description: Shows hold states before/after and the content of the preferences and apt.conf.d files.
options:
  names:
    description:
      - Package names or shell globs, without a version (the installed or already pinned one is
        used); shorthand for O(packages) entries with only a name. O(names) and O(packages) add up; both empty is a no-op.
      - When none of them matches an installed package, nothing is held and the result says so (C(warn)).
    type: list
    elements: str
    default: []
  packages:
    description:
      - The packages to hold or release, with an optional version each.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - A package name, or a shell glob matched against the installed packages
            (and, for O(state=released), against the names in the pin files).
        type: str
        required: true
      version:
        description:
          - The version to pin, exact (C(535.183.01-0ubuntu1)) or a glob (C(535.183.*)).
          - When left out, the version already pinned in the preferences file is kept, or, for a
            new pin, the installed version is used.
        type: str
  state:
    description:
      - C(held) holds and pins the packages; C(released) unholds them and removes their pins.
    type: str
    choices: [held, released]
    default: held
  mode:
    description:
      - C(enforce) applies the plan and fails, changing nothing, when an installed version is not
        the pinned one (it never re-pins a version nobody asked for).
      - C(audit) changes nothing and reports drift and missing holds as checks.
    type: str
    choices: [enforce, audit]
    default: enforce
  apt_preferences:
    description:
      - Also pin each package at its version in O(preferences_path) with C(Pin-Priority 1001).
    type: bool
    default: true
  unattended_upgrades_blacklist:
    description:
      - Also add each package to C(Unattended-Upgrade::Package-Blacklist) in O(blacklist_path).
    type: bool
    default: true
  preferences_path:
    description: The APT preferences file this module owns.
    type: path
    default: /etc/apt/preferences.d/gpufleet-package-pin.pref
  blacklist_path:
    description: The apt.conf.d file this module owns.
    type: path
    default: /etc/apt/apt.conf.d/51gpufleet-package-pin
  missing_ok:
    description:
      - Do not fail when an exact package name is not installed (it is reported and skipped).
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for the dpkg lock (held by another apt run) before failing with the PID of
        its holder; C(0) looks once. A negative value fails, naming the option.
    type: int
    default: 120
  verify_upgrade:
    description:
      - After applying, simulate these commands (C(apt-get -s)) and report, as C(crit) checks, any
        pinned package they would move. Read-only; runs in check mode too (against the current state).
    type: list
    elements: str
    choices: [upgrade, dist-upgrade]
    default: []
notes:
  - Needs C(dpkg-query), C(apt-mark) and C(apt-cache) (Debian, Ubuntu); other hosts fail with a message saying so.
  - The files are rewritten only when their content differs from what the pins render; hand edits show in the diff.
seealso:
  - name: Pin policy and bump runbook
    description: docs/pinning.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/pinning.md
"""

EXAMPLES = r"""
- name: Hold the NVIDIA driver stack at the installed versions
  gpufleet.maintenance.package_pin:
    names:
      - nvidia-driver-*
      - libnvidia-compute-*
      - nvidia-dkms-*

- name: Pin one package at an exact version (fails if something else is installed)
  gpufleet.maintenance.package_pin:
    packages:
      - name: nvidia-driver-535
        version: 535.183.01-0ubuntu0.22.04.1

- name: Report drift without changing anything, and prove upgrade would not move the pins
  gpufleet.maintenance.package_pin:
    packages:
      - name: nvidia-*
    mode: audit
    verify_upgrade: [upgrade, dist-upgrade]
  register: pins

- name: Release before a deliberate bump
  gpufleet.maintenance.package_pin:
    packages:
      - name: nvidia-driver-535
    state: released
"""

RETURN = r"""
packages:
  description:
    - One entry per package the request matched.
    - C(candidate_version) is apt's candidate (C(apt-cache policy)); C(newer_version) the newest version apt
      could install that is newer than the installed one, read from the policy's version table (a preferences
      pin keeps the candidate at the pinned version), or V(null) when there is none.
  returned: always
  type: list
  elements: dict
  sample:
    - name: nvidia-driver-535
      pattern: nvidia-driver-*
      installed_version: 535.183.01-0ubuntu1
      candidate_version: 535.183.06-0ubuntu1
      newer_version: 535.183.06-0ubuntu1
      pinned_version: 535.183.01-0ubuntu1
      held_before: false
      held_after: true
      drift: false
      drift_reason: null
      changed: true
drift:
  description: Names of the packages with drift.
  returned: always
  type: list
  elements: str
  sample: []
plan:
  description: What was (or, in check mode, would be) changed.
  returned: always
  type: dict
  sample: {hold: [nvidia-driver-535], unhold: [], files: [/etc/apt/preferences.d/gpufleet-package-pin.pref]}
pending:
  description: What enforce mode would change (also filled in audit mode).
  returned: always
  type: dict
  sample: {hold: [nvidia-driver-535], unhold: [], files: []}
unmatched:
  description: The O(names) and O(packages) names or patterns that match no installed package.
  returned: always
  type: list
  elements: str
  sample: [rocm-*]
checks:
  description:
    - Checks C(package_pin_drift), C(package_pin_hold) and C(package_pin_upgrade_moves) per package (subject
      C(package)), C(package_pin_newer_candidate) (C(warn)) for a held package of which apt knows a newer version
      than the installed one, and C(package_pin_match) (C(warn), "nothing is held") when O(state=held) was asked for
      names or patterns and none matches an installed package.
  returned: always
  type: list
  elements: dict
  sample:
    - check: package_pin_drift
      package: nvidia-driver-535
      status: crit
      value: 535.183.06-0ubuntu1
      threshold: 535.183.01-0ubuntu1
      message: nvidia-driver-535 is installed at 535.183.06-0ubuntu1 but pinned at 535.183.01-0ubuntu1 ...
status:
  description: The worst status of the checks.
  returned: always
  type: str
  sample: ok
simulation:
  description: Per O(verify_upgrade) command, the pinned packages it would move and those apt keeps back.
  returned: when O(verify_upgrade) is set (not in check mode when the plan is not empty)
  type: dict
  sample: {upgrade: {moves: {}, kept_back: [nvidia-driver-535]}}
lock_waited_s:
  description: Seconds spent waiting for the dpkg lock.
  returned: when something was changed
  type: float
  sample: 0.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import package_pin


def main():
    module = AnsibleModule(argument_spec=package_pin.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = package_pin.run(module.run_command, module.params, check_mode=module.check_mode)
    except package_pin.AptError as exc:
        module.fail_json(msg=str(exc), cmd=exc.cmd, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr,
                         **(exc.results or {}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
