#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_cleanup
short_description: Remove old Docker containers, images and volumes without touching pinned or kept ones
version_added: 0.1.0
description:
  - The pinned- and label-aware part of the weekly Docker hygiene (role
    C(gpufleet.maintenance.docker_hygiene)). Unlike C(docker system prune -af --volumes) it never
    removes a named volume unless it is listed in O(volumes_to_remove).
  - "Removes: stopped containers older than O(container_age) that are not labelled
    C(gpufleet.keep=true) and (by default) not part of a Compose project; unused images older than
    O(image_age), dangling or not, except images pinned in the manifest, images labelled keep,
    images of Compose containers (even stopped) and the newest O(keep_per_repository) images of each
    repository; unused anonymous volumes, and unused named volumes listed in O(volumes_to_remove)."
  - Also lists (in RVs plan.build_cache and plan.networks) the build cache and networks that
    C(community.docker.docker_prune) would remove, so check mode shows everything that would go.
  - An object in use is skipped and reported, not an error. When the daemon stops answering
    mid-run the module fails naming the step, and RV done lists only what was really removed.
author:
  - gpufleet maintainers (@gpufleet)
requirements:
  - docker (the Docker SDK for Python) on the managed host
attributes:
  check_mode:
    support: full
    description: Returns the plan (what would go and the bytes it would free) and removes nothing.
  diff_mode:
    support: full
    description: The objects removed (or that would be) as the diff's C(before).
options:
  docker_host:
    description: The daemon, for example C(unix:///var/run/docker.sock); default C(DOCKER_HOST) or the local socket.
    type: str
  timeout:
    description: Seconds to wait for each API call (at least 1).
    type: int
    default: 120
  container_age:
    description:
      - Stopped containers created longer ago than this are removed (C(90s), C(30m), C(24h), C(7d), C(2w) or seconds).
      - An age that does not parse fails before anything is read or removed, naming the option.
    type: str
    default: 24h
  image_age:
    description: Unused images created longer ago than this are removed.
    type: str
    default: 168h
  build_cache_age:
    description: Build cache not used for this long is listed for removal.
    type: str
    default: 168h
  keep_per_repository:
    description: The newest this many images of each repository are kept, used or not (0 or more).
    type: int
    default: 2
  pin_manifest:
    description: An image pin manifest (see M(gpufleet.maintenance.image_digest)); pinned images are kept.
    type: path
  pins:
    description: Pins given inline, C({image, digest}) entries; kept like those of O(pin_manifest).
    type: list
    elements: dict
    default: []
  volumes_to_remove:
    description: Named volumes that may be removed when no container uses them. Other named volumes are kept.
    type: list
    elements: str
    default: []
  keep_compose_containers:
    description: Keep stopped containers of a Compose project (C(docker compose up) reuses them).
    type: bool
    default: true
  prune_networks:
    description: List unused networks in RV plan.networks.
    type: bool
    default: true
  scope_labels:
    description:
      - Only objects carrying all these labels are considered (for example to confine a run to
        one application's objects on a shared engine). Empty means every object.
    type: dict
    default: {}
seealso:
  - module: gpufleet.maintenance.docker_facts
  - module: gpufleet.maintenance.image_digest
  - module: community.docker.docker_prune
"""

EXAMPLES = r"""
- name: What would the weekly prune remove?
  gpufleet.maintenance.docker_cleanup:
    pin_manifest: /etc/gpufleet/images.yml
  check_mode: true
  register: cleanup_plan

- name: Prune, also dropping an old named volume on purpose
  gpufleet.maintenance.docker_cleanup:
    pin_manifest: /etc/gpufleet/images.yml
    volumes_to_remove:
      - old-qdrant-index
"""

RETURN = r"""
plan:
  description:
    - What goes (or would go) - C(containers) (C(id), C(name), C(image), C(state), C(bytes),
      C(log_bytes)), C(images) (C(id), C(image), C(tags), C(repo_digests), C(dangling), C(bytes)),
      C(volumes) (C(name), C(anonymous), C(bytes)), C(build_cache) and C(networks).
  returned: always
  type: dict
kept:
  description: Stopped containers, unused images and unused volumes kept, each with its C(reason).
  returned: always
  type: dict
bytes:
  description: Bytes the plan frees per category (C(containers), C(container_logs), C(images), C(volumes), C(build_cache), C(total)).
  returned: always
  type: dict
  sample: {containers: 4096, container_logs: 52428800, images: 734003200, volumes: 1048576, build_cache: 0, total: 787484672}
removed:
  description: What was removed (C(containers), C(images), C(volumes)); empty in check mode.
  returned: always
  type: dict
not_removed:
  description: Objects of the plan that were not removed (in use, already gone), each with C(kind) and C(reason).
  returned: always
  type: list
  elements: dict
done:
  description: On failure, what had been removed before the daemon stopped answering.
  returned: failure
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import ManifestError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import read_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import docker_cleanup
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as engine


def main():
    module = AnsibleModule(
        argument_spec=dict(
            docker_host=dict(type="str"),
            timeout=dict(type="int", default=120),
            container_age=dict(type="str", default="24h"),
            image_age=dict(type="str", default="168h"),
            build_cache_age=dict(type="str", default="168h"),
            keep_per_repository=dict(type="int", default=2),
            pin_manifest=dict(type="path"),
            pins=dict(type="list", elements="dict", default=[]),
            volumes_to_remove=dict(type="list", elements="str", default=[]),
            keep_compose_containers=dict(type="bool", default=True),
            prune_networks=dict(type="bool", default=True),
            scope_labels=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    if not engine.has_sdk():
        module.fail_json(msg=missing_required_lib("docker (the Docker SDK for Python)"), exception=engine.sdk_import_error())
    try:
        result = docker_cleanup.run(module.params, module.check_mode, read_text)
    except (ManifestError, docker_cleanup.PlanError) as exc:
        module.fail_json(msg="docker cleanup: reading the options and pins: %s" % exc)
    except engine.EngineError as exc:
        module.fail_json(msg="docker cleanup: %s: %s" % (exc.step, exc.error), done=exc.done)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
