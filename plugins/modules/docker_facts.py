#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_facts
short_description: Docker engine, disk use, logs and image pins of a host, with checks
version_added: 0.1.0
description:
  - Reads the Docker engine through the Docker SDK for Python (API 1.41, Docker 20.10, or newer)
    and returns one fact, C(gpufleet_docker) - engine and API version, storage driver, the Docker
    root and its filesystem use, runtimes (is C(nvidia) registered), the daemon log driver and its
    C(max-size)/C(max-file), disk use per category from the engine's C(/system/df), and one entry
    per container (configured image, image ID, repo digest, pinned by digest, state, log size).
  - No engine that answers gives C(present=false) with the reason, never a failure, and the check
    C(docker_present) says what it means - C(ok) when Docker is not installed (no C(dockerd), no docker
    unit file, no socket, no O(docker_host)); C(crit) when Docker is installed but the daemon does not
    answer (refused, a socket that hangs or closes at once, an API older than 1.41); C(unknown) when
    the Docker SDK for Python is missing while Docker is installed (run the
    C(gpufleet.maintenance.prerequisites) role). An engine that answers gives an C(ok)
    C(docker_present).
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
requirements:
  - docker (the Docker SDK for Python) on the managed host
options:
  docker_host:
    description:
      - The daemon to read, for example C(unix:///var/run/docker.sock) or C(tcp://127.0.0.1:2375).
      - Defaults to C(DOCKER_HOST) from the environment, then the local socket.
    type: str
  timeout:
    description: Seconds to wait for each API call (at least 1; a smaller value fails naming the option).
    type: int
    default: 30
  daemon_json:
    description:
      - Path of the daemon configuration, read for C(log-opts) (the API does not report them).
    type: path
    default: /etc/docker/daemon.json
  state_file:
    description:
      - The file in which the role P(gpufleet.maintenance.docker_hygiene#role) keeps that it changed daemon.json
        without restarting Docker. While it exists, the check C(daemon_restart_pending) compares the time
        daemon.json changed with the daemon's start time (the mtime of its pidfile, C(pidfile) in daemon.json
        or C(/var/run/docker.pid)) - C(warn) until Docker started after the change, C(ok) then.
    type: path
    default: /var/lib/gpufleet/docker_hygiene.json
  thresholds:
    description: Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      root_used_warn_pct:
        description: Use of the filesystem holding the Docker root that gives a warning.
        type: float
        default: 80
      root_used_crit_pct:
        description: Use of the Docker root filesystem that is critical.
        type: float
        default: 90
      container_log_warn_bytes:
        description: Size of one container log (json-file) that gives a warning.
        type: int
        default: 1073741824
      container_log_crit_bytes:
        description: Size of one container log that is critical.
        type: int
        default: 10737418240
      unpinned_status:
        description: Status of the C(images_unpinned) check when running containers use images by tag.
        type: str
        choices: [ok, warn, crit]
        default: warn
seealso:
  - module: gpufleet.maintenance.image_digest
  - name: Docker maintenance
    description: docs/docker.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/docker.md
"""

EXAMPLES = r"""
- name: Gather Docker facts
  gpufleet.maintenance.docker_facts:

- name: Warn when a container log passes 200 MB
  gpufleet.maintenance.docker_facts:
    thresholds:
      container_log_warn_bytes: 200000000

- name: Say which containers run unpinned images
  ansible.builtin.debug:
    msg: "{{ ansible_facts.gpufleet_docker.containers | rejectattr('pinned_by_digest') | map(attribute='name') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_docker:
      description: The Docker engine of the host, its disk use, checks and the worst status.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        present:
          description: Whether a Docker daemon answered.
          type: bool
          sample: true
        reason:
          description: Why Docker is not present (C(null) when it is).
          type: str
          sample: null
        install_evidence:
          description:
            - When no engine answered, what says Docker is installed (O(docker_host), the socket, C(dockerd),
              unit files); empty when it is not installed.
          returned: when present is false
          type: list
          elements: str
          sample: [/usr/sbin/dockerd, /lib/systemd/system/docker.service]
        sdk:
          description:
            - When no engine answered, whether the Docker SDK for Python was found.
            - V(null) when nothing says Docker is installed (the SDK is then not imported).
          returned: when present is false
          type: bool
        too_old:
          description: When no engine answered, whether it answered with an API older than 1.41.
          returned: when present is false
          type: bool
        engine_version:
          description: Docker engine version.
          type: str
          sample: 20.10.24+dfsg1
        api_version:
          description: Highest API version of the engine.
          type: str
          sample: "1.41"
        storage_driver:
          description: Storage driver.
          type: str
          sample: overlay2
        root_dir:
          description: The Docker root directory.
          type: str
          sample: /var/lib/docker
        root_fs:
          description: Filesystem of the Docker root (C(size_bytes), C(used_bytes), C(free_bytes), C(used_pct)).
          type: dict
          sample: {size_bytes: 1000000000000, used_bytes: 420000000000, free_bytes: 530000000000, used_pct: 44.2}
        runtimes:
          description: Registered OCI runtimes.
          type: list
          elements: str
          sample: [io.containerd.runc.v2, nvidia, runc]
        default_runtime:
          description: The default runtime.
          type: str
          sample: runc
        nvidia_runtime:
          description: Whether the C(nvidia) runtime is registered.
          type: bool
          sample: true
        log_driver:
          description: The daemon's default log driver.
          type: str
          sample: json-file
        log_max_size:
          description: C(log-opts.max-size) from daemon.json, as written (C(null) when unset).
          type: str
          sample: 50m
        log_max_size_bytes:
          description: C(max-size) in bytes.
          type: int
          sample: 50000000
        log_max_file:
          description: C(log-opts.max-file) from daemon.json.
          type: int
          sample: 3
        disk_usage:
          description:
            - Sizes from the engine's C(/system/df) - C(images) (C(count), C(total_bytes),
              C(dangling_count), C(dangling_bytes), C(unused_count), C(unused_bytes)),
              C(containers) (C(count), C(running), C(stopped), C(writable_bytes), C(logs_bytes)),
              C(volumes) (C(count), C(total_bytes), C(unused_anonymous_count),
              C(unused_anonymous_bytes), C(unused_named_count), C(unused_named_bytes)) and
              C(build_cache) (C(count), C(total_bytes), C(reclaimable_bytes)).
          type: dict
        containers:
          description: One entry per container.
          type: list
          elements: dict
          sample:
            - name: ollama
              id: 3f2a...
              image: ollama/ollama:0.5.7
              image_id: sha256:9c1f...
              repo_digest: sha256:7e67...
              pinned_by_digest: false
              state: running
              compose_project: null
              keep: false
              writable_bytes: 4096
              log_bytes: 1048576
        daemon_json:
          description: The daemon.json path read.
          type: str
          sample: /etc/docker/daemon.json
        daemon_restart:
          description:
            - A daemon.json change waiting for a restart of Docker (C(null) when O(state_file) does not exist) -
              C(state_file), C(daemon_json), C(daemon_json_mtime_s), C(pidfile), C(daemon_started_s) (C(null) when
              the pidfile cannot be read here) and C(restarted) (C(null) when that cannot be told).
          type: dict
        thresholds:
          description: The thresholds in force.
          type: dict
        checks:
          description:
            - Health checks - C(docker_present), C(docker_root_used), C(container_log_size) per container,
              C(daemon_restart_pending) while daemon.json waits for a restart, C(images_unpinned).
          type: list
          elements: dict
        status:
          description: The worst status of the checks.
          type: str
          sample: warn
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
