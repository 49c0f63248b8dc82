#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: image_digest
short_description: Audit, enforce or lock Docker image digest pins from a manifest
version_added: 0.1.0
description:
  - "Works with an image pin manifest - a YAML or JSON file (or an inline list) of
    C({image: repo:tag, digest: sha256:...}) entries."
  - C(mode=audit) compares the engine with the manifest - the local repo digests, whether
    containers run the pinned image, and with O(check_remote) whether the registry's tag now
    points to another digest (C(update_available), with the new digest). Running containers whose
    image is in no entry and not referenced by digest are listed as C(unpinned); a container still
    running an older image after its tag moved locally is C(stale).
  - C(mode=enforce) pulls pinned digests that are missing, points each tag at its pinned image and
    lists the containers that run something else (C(recreate_needed)); it recreates them only
    with O(recreate=true), and never containers of a Compose project.
  - C(mode=lock) writes the manifest from what runs now (each running image's repo digest).
  - The whole manifest is validated before anything changes; an invalid entry fails naming it.
author:
  - gpufleet maintainers (@gpufleet)
requirements:
  - docker (the Docker SDK for Python) on the managed host
attributes:
  check_mode:
    support: full
    description: C(enforce) and C(lock) return their plan and change nothing.
  diff_mode:
    support: full
    description: C(lock) shows the manifest before and after; C(enforce) the tags and containers it changes.
options:
  mode:
    description: What to do.
    type: str
    choices: [audit, enforce, lock]
    default: audit
  manifest:
    description:
      - Path of the manifest file (YAML or JSON), a list of entries or a mapping with key C(images) holding that list.
      - Required for O(mode=lock), which writes it.
    type: path
  entries:
    description: Manifest entries given inline (added to those of O(manifest)).
    type: list
    elements: dict
  check_remote:
    description:
      - With O(mode=audit), ask the registry which digest each tag points to now (through the
        engine, with its credentials). A registry that does not answer gives a warning per image.
    type: bool
    default: false
  recreate:
    description: With O(mode=enforce), recreate containers that do not run their pinned image.
    type: bool
    default: false
  compose_files:
    description: Compose files to scan for C(image:) references without a digest.
    type: list
    elements: path
    default: []
  docker_host:
    description: The daemon, for example C(unix:///var/run/docker.sock); default C(DOCKER_HOST) or the local socket.
    type: str
  timeout:
    description: Seconds to wait for each API call, at least 1 (a pull can take longer on a slow link).
    type: int
    default: 300
seealso:
  - module: gpufleet.maintenance.docker_facts
  - name: Docker maintenance and the pin policy
    description: docs/docker.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/docker.md
"""

EXAMPLES = r"""
- name: Pin what runs today
  gpufleet.maintenance.image_digest:
    mode: lock
    manifest: /etc/gpufleet/images.yml

- name: Weekly - is there anything new upstream? (read the changelog before bumping)
  gpufleet.maintenance.image_digest:
    mode: audit
    manifest: /etc/gpufleet/images.yml
    check_remote: true
    compose_files:
      - /srv/open-webui/compose.yaml
  register: pins

- name: Make the engine match the manifest, without touching running containers
  gpufleet.maintenance.image_digest:
    mode: enforce
    manifest: /etc/gpufleet/images.yml
"""

RETURN = r"""
mode:
  description: The mode run.
  returned: always
  type: str
  sample: audit
entries:
  description:
    - One result per manifest entry - C(image), C(digest), C(pinned_present), C(pinned_image_id),
      C(tag_image_id), C(tag_matches_pin), C(local_repo_digests), C(containers) (C(name), C(state),
      C(image_id), C(runs_pinned)), C(remote_digest), C(remote_digest_kind) and
      C(pinned_digest_kind) (C(index) or C(manifest)), C(update_available) (C(null) when unknown),
      C(remote_note), C(remote_error) and C(status) (C(ok), C(missing), C(drift), C(update_available)).
  returned: always
  type: list
  elements: dict
unpinned:
  description: Running containers whose image is in no entry and not referenced by digest.
  returned: always
  type: list
  elements: dict
  sample: [{name: open-webui, image: "ghcr.io/open-webui/open-webui:main", image_id: "sha256:..."}]
stale:
  description: Running containers whose tag now points to another local image (recreate them).
  returned: always
  type: list
  elements: dict
compose_unpinned:
  description: Compose services whose C(image) has no digest (C(file), C(service), C(image)).
  returned: always
  type: list
  elements: dict
compose_errors:
  description: Compose files that could not be read.
  returned: always
  type: list
  elements: str
checks:
  description:
    - With O(mode=audit), health checks in the collection's shape (C(check), C(status), C(value),
      C(threshold), C(message), C(subject), and C(image) or C(container)) - C(image_pin) (missing or
      drifted pin), C(image_update) (the registry moved the tag - read the changelog before bumping - or
      did not answer), C(image_unpinned), C(image_stale); one C(ok) C(image_audit) check when all is in
      order. The C(images) area of M(gpufleet.maintenance.health_facts) (fact C(gpufleet_images)) has
      the same checks, and C(image_audit) says why nothing was audited (no manifest, or the audit failed).
  returned: when mode is audit
  type: list
  elements: dict
status:
  description: With O(mode=audit), the worst status of RV(checks) (C(ok) or C(warn)).
  returned: when mode is audit
  type: str
  sample: warn
actions:
  description: With O(mode=enforce), the plan (C(pull), C(tag), C(recreate) actions); done unless in check mode.
  returned: when mode is enforce
  type: list
  elements: dict
recreate_needed:
  description: With O(mode=enforce), containers that do not run their pinned image.
  returned: when mode is enforce
  type: list
  elements: dict
manifest:
  description: With O(mode=lock), the entries written.
  returned: when mode is lock
  type: list
  elements: dict
not_pinnable:
  description: With O(mode=lock), running containers whose image has no repo digest.
  returned: when mode is lock
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import ManifestError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import read_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import image_digest
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as engine


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", choices=["audit", "enforce", "lock"], default="audit"),
            manifest=dict(type="path"),
            entries=dict(type="list", elements="dict"),
            check_remote=dict(type="bool", default=False),
            recreate=dict(type="bool", default=False),
            compose_files=dict(type="list", elements="path", default=[]),
            docker_host=dict(type="str"),
            timeout=dict(type="int", default=300),
        ),
        required_one_of=[("manifest", "entries")],
        supports_check_mode=True,
    )
    if not engine.has_sdk():
        module.fail_json(msg=missing_required_lib("docker (the Docker SDK for Python)"), exception=engine.sdk_import_error())
    try:
        result, warnings = image_digest.run(module.params, module.check_mode, read_text, image_digest.write_manifest)
    except image_digest.OptionError as exc:
        module.fail_json(msg="image_digest: %s" % exc)
    except ManifestError as exc:
        module.fail_json(msg="reading the pin manifest: %s" % exc)
    except engine.EngineError as exc:
        module.fail_json(msg="image_digest %s: %s: %s" % (module.params["mode"], exc.step, exc.error), done=exc.done)
    except (IOError, OSError) as exc:
        module.fail_json(msg="image_digest %s: %s" % (module.params["mode"], exc))
    for warning in warnings:
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
