# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the Docker engine (through ``_tools/docker.py``), the Docker root's filesystem and daemon.json.

I/O only; shaping is in ``parse.py``, verdicts in ``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host.parse import disk_usage
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import read_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as engine

DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json"
DEFAULT_STATE_FILE = "/var/lib/gpufleet/docker_hygiene.json"
DEFAULT_PIDFILE = "/var/run/docker.pid"


def read_daemon_json(path):
    """``(config dict, error)`` of daemon.json; a missing file is ``({}, None)``."""
    path = path or DEFAULT_DAEMON_JSON
    try:
        text = read_text(path)
    except (IOError, OSError) as exc:
        return {}, "%s could not be read as JSON: %s" % (path, exc)
    return parse.parse_daemon_json(text, path)


def mtime(path):
    """The modification time of ``path`` (epoch seconds), or None when it cannot be read."""
    try:
        return os.stat(path).st_mtime
    except (OSError, TypeError):
        return None


def read_restart_state(state_file, daemon_json, daemon_config):
    """A daemon.json change waiting for a restart (the state file docker_hygiene keeps), or None."""
    try:
        text = read_text(state_file)
    except (IOError, OSError) as exc:
        text = "(unreadable: %s)" % exc
    pidfile = (daemon_config or {}).get("pidfile") or DEFAULT_PIDFILE
    return parse.restart_state(text, state_file, daemon_json, mtime(daemon_json), pidfile, mtime(pidfile))


def fs_usage(path):
    """The filesystem use of ``path`` (df's view), or None when it cannot be read."""
    try:
        return disk_usage(os.statvfs(path))
    except (OSError, TypeError):
        return None


def collect(run_command, params):
    """``(data, warnings)``: the engine's readings; ``present: false`` with the reason when no engine
    answered, and what says Docker is installed (the verdict differs: absent, silent, unreadable)."""
    docker_host = params.get("docker_host")
    evidence = engine.install_evidence(docker_host)
    if not evidence:   # no engine to ask: the SDK is not even imported (sdk: null, not looked for)
        return parse.absent("Docker is not installed on this host (no dockerd, no docker unit, no socket at %s)"
                            % engine.daemon_address(docker_host), evidence, sdk=None), []
    if not engine.has_sdk():
        return parse.absent(engine.sdk_missing_reason(evidence), evidence, sdk=False), []
    try:
        client = engine.connect(docker_host, int(params.get("timeout") or 30))
    except engine.EngineError as exc:
        return _silent(exc, docker_host), []
    warnings = []
    try:
        info = engine.call("reading /info", client.info)
        version = engine.call("reading /version", client.version)
        df = engine.call("reading /system/df", client.df)
        sizes = engine.log_sizes(client, df.get("Containers") or [])
    except engine.EngineError as exc:
        return _silent(exc, docker_host), []
    finally:
        client.close()
    daemon_json = params.get("daemon_json") or DEFAULT_DAEMON_JSON
    config, error = read_daemon_json(daemon_json)
    if error:
        warnings.append(error)
    data = parse.shape(info, version, df, root_fs=fs_usage(info.get("DockerRootDir")), log_sizes=sizes,
                       daemon_config=config)
    data["daemon_json"] = daemon_json
    data["daemon_restart"] = read_restart_state(params.get("state_file") or DEFAULT_STATE_FILE, daemon_json, config)
    return data, warnings


def _silent(exc, docker_host):
    """The readings of an engine that did not answer (or answered too old an API)."""
    evidence = engine.install_evidence(docker_host)
    if isinstance(exc, engine.EngineTooOld):
        return parse.absent(str(exc), evidence, too_old=True)
    if evidence:
        return parse.absent(engine.silent_reason(exc, evidence), evidence)
    return parse.absent("Docker is not installed on this host (%s)" % exc, evidence)
