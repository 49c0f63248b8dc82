"""NOT COMMITTED: shows that runner_service does not restart a running runner whose unit changed."""
import json
import yaml
from testlib.ansible_run import run_playbook
from testlib.systemd_host import exec_, systemd_host, unit_property


def test_changed_runner_unit_restarts_the_runner(tmp_path):
    with systemd_host("gpf16-scratch") as name:
        inventory = tmp_path / "inv.yml"
        inventory.write_text(json.dumps({"all": {"hosts": {name: {"ansible_connection": "community.docker.docker",
                                                                  "ansible_python_interpreter": "/usr/bin/python3"}}}}))

        def play(version):
            pb = tmp_path / "p.yml"
            pb.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "roles": [
                {"role": "gpufleet.maintenance.runner_service", "vars": {"runner_service_runners": [
                    {"name": "gpf-runner", "exec": "/bin/sleep infinity", "version": version, "port": 11434}]}}]}]))
            proc = run_playbook(str(pb), ["-i", str(inventory)])
            assert proc.returncode == 0, proc.stdout[-3000:]

        play("1")
        first = unit_property(name, "gpf-runner.service", "InvocationID")
        play("2")  # a new runner version: the unit file changes, the handler "...and restart the runners" runs
        assert "GPUFLEET_RUNNER_VERSION=2" in exec_(name, "systemctl", "show", "-p", "Environment", "gpf-runner.service").stdout
        assert unit_property(name, "gpf-runner.service", "InvocationID") != first, "the running runner was not restarted"
