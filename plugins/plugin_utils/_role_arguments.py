# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's arguments checked inside an action plugin, as ``ansible.builtin.validate_argument_spec`` checks them.

The cadences import the role ``fleet_report`` with ``rolespec_validate: false`` (Ansible's own validation is a
task slot on every host), and ``gpufleet.maintenance.cadence_report``, which runs once per play on the controller,
checks the role's arguments first instead (its option ``check_role_arguments``): no task of its own, no lookup,
no worker fork.

The check is Ansible's: the ``main`` entry point's options of the role's ``meta/argument_specs.yml``, each one that
is a variable of the task templated with the action's templar, validated by ``ArgumentSpecValidator`` with
``validate_role_argument_spec=True``, and on errors the result ``validate_argument_spec`` gives
(``msg`` "Validation of arguments failed:...", ``argument_errors``, ``argument_spec_data``,
``validate_args_context``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ENTRY_POINT = "main"


def failure(loader, templar, spec_path, task_vars):
    """The failed result of the check of the role whose ``meta/argument_specs.yml`` is ``spec_path``, or None.

    ``loader`` is the action's DataLoader (it caches the file), ``templar`` the action's Templar (the task's
    variables), ``task_vars`` the task's variables. A spec file that cannot be read, or that has no
    ``argument_specs.main``, is a failure that says so (never a traceback).
    """
    role_path = os.path.dirname(os.path.dirname(spec_path))
    context = dict(type="role", name=os.path.basename(role_path), argument_spec_name=ENTRY_POINT, path=role_path)
    try:
        data = loader.load_from_file(spec_path)
    except (AnsibleError, OSError, UnicodeError) as exc:
        return dict(failed=True, validate_args_context=context,
                    msg="check_role_arguments: cannot read the role's argument specification %s: %s"
                        % (spec_path, getattr(exc, "message", None) or exc))
    specs = data.get("argument_specs") if isinstance(data, dict) else None
    entry = specs.get(ENTRY_POINT) if isinstance(specs, dict) else None
    options = (entry.get("options") or {}) if isinstance(entry, dict) else None
    if not isinstance(options, dict):
        return dict(failed=True, validate_args_context=context,
                    msg="check_role_arguments: %s has no argument_specs.%s with options (give a role's "
                        "meta/argument_specs.yml)" % (spec_path, ENTRY_POINT))
    # as validate_argument_spec without provided_arguments: the spec's names that are variables, templated
    args = dict((name, task_vars[name]) for name in options if name in task_vars)
    args = templar.template(args)
    validation = ArgumentSpecValidator(options).validate(args, validate_role_argument_spec=True)
    if not validation.error_messages:
        return None
    return dict(failed=True, msg="Validation of arguments failed:\n%s" % "\n".join(validation.error_messages),
                argument_errors=validation.error_messages, argument_spec_data=options,
                validate_args_context=context)
