#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prerequisites_facts
short_description: Read in one call what the prerequisites role needs to know about a host
version_added: 0.1.0
description:
  - Reads the distribution, the Python running the module, the effective user id, which of the
    distribution packages O(packages) dpkg has installed, and the JSON stamp of the virtual environment
    O(venv_stamp). The role C(gpufleet.maintenance.prerequisites) runs it first, so that a host that
    already has everything costs one module run instead of C(setup), C(dpkg-query) and C(slurp).
  - The distribution facts are the ones M(ansible.builtin.setup) reports (C(distribution),
    C(distribution_version), C(distribution_major_version), C(distribution_release), C(os_family)).
    On Debian and Ubuntu they come from C(/etc/os-release) and C(/etc/debian_version), read the way
    Ansible reads them; on any other system, or where another C(/etc/*-release) file could change
    Ansible's answer, the module runs Ansible's own distribution collector (C(distribution_source)
    says which).
  - A package counts as installed when C(dpkg-query) reports C(ii) for it (selection install, status
    installed, no error); held (C(hi)), removed with its configuration left (C(rc)), half-installed
    and unknown packages are missing.
  - Read-only, so it runs the same in check mode. A missing, unreadable or damaged stamp is reported
    (C(venv_stamp) V(null), C(venv_stamp_reason)), never a failure; a system without C(dpkg-query)
    gives C(packages.present=false) and a reason. The module fails only when C(dpkg-query) itself
    fails (an exit status other than 0 and 1).
  - Standard library only, Python 3.6 syntax, because it runs with the distribution's C(python3), before the
    role's virtual environment exists.
  - Sets the fact C(gpufleet_platform).
author:
  - gpufleet maintainers (@gpufleet)
options:
  packages:
    description:
      - Distribution packages to look up (names, as C(dpkg-query --show) takes them). Empty means
        none (C(dpkg-query) is not run).
    type: list
    elements: str
    default: []
  venv_stamp:
    description:
      - The stamp file of the virtual environment (a JSON object) to read; not given means none.
    type: path
  timeout:
    description: Seconds C(dpkg-query) may take.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  facts:
    support: full
    description: Sets one namespaced fact, C(gpufleet_platform), with a C(schema_version).
notes:
  - The role reads the registered result rather than the fact, so a fact cached by an earlier run
    never stands in for this run's reading.
seealso:
  - module: ansible.builtin.setup
"""

EXAMPLES = r"""
- name: Read the host for the prerequisites role
  gpufleet.maintenance.prerequisites_facts:
    packages: [smartmontools, iproute2, dmidecode]
    venv_stamp: /opt/gpufleet/venv/gpufleet-prerequisites.json
  vars:
    ansible_python_interpreter: /usr/bin/python3
  register: host

- name: Say what is missing
  ansible.builtin.debug:
    msg: "{{ host.ansible_facts.gpufleet_platform.packages.missing }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_platform:
      description:
        - C(distribution), C(distribution_version), C(distribution_major_version), C(distribution_release)
          and C(os_family) as M(ansible.builtin.setup) reports them, and C(distribution_source)
          (C(os-release) or C(ansible), the collector the module fell back to).
        - C(python) (C(version) major.minor, C(version_full), C(executable)) and C(effective_user_id) of
          the module's process.
        - C(packages) - C(present) (C(false) without C(dpkg-query), with C(reason)), C(status) (each
          package asked to the list of status abbreviations dpkg printed for it, C(null) when dpkg does
          not know it), C(installed) (the names with an C(ii) line, sorted) and C(missing) (the names
          asked that are not installed, in the order asked).
        - C(venv_stamp) (the stamp's JSON object, C(null) when absent, unreadable or not a JSON
          object) and C(venv_stamp_reason) (why it is C(null)).
      returned: always
      type: dict
      sample:
        schema_version: 1
        distribution: Debian
        distribution_version: "12.15"
        distribution_major_version: "12"
        distribution_release: bookworm
        os_family: Debian
        distribution_source: os-release
        python: {version: "3.11", version_full: 3.11.2, executable: /usr/bin/python3}
        effective_user_id: 0
        packages:
          present: true
          reason: null
          status: {smartmontools: ["ii "], dmidecode: ["hi "], rsync: ["rc "], pciutils: null}
          installed: [smartmontools]
          missing: [dmidecode, rsync, pciutils]
        venv_stamp: {python: "3.11", requirements: [docker==7.2.0, pip==26.3], sha256: {}}
        venv_stamp_reason: null
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts.system.distribution import DistributionFactCollector

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import prerequisites_facts


def main():
    module = AnsibleModule(argument_spec=prerequisites_facts.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        fact = prerequisites_facts.gather(module.run_command, module.params,
                                          lambda: DistributionFactCollector().collect(module=module))
    except prerequisites_facts.PrerequisitesError as exc:
        module.fail_json(msg=str(exc), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
    module.exit_json(changed=False, ansible_facts={prerequisites_facts.FACT: fact})


if __name__ == "__main__":
    main()
