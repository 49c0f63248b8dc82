#!/usr/bin/env bash
# Run on a lent GPU machine from the repository root: the cadence playbooks themselves (ansible-playbook,
# connection local) on the real card, idle and under load, plus gpu_probe.py's two-path parity check
# with the current code. Output (reports, history, facts, logs) goes to $OUT.
#
# That machine reaches no package registry: ansible-core and the few of its needs that the image lacks
# travel as wheels in .whl/ (docs/gpu.md, "On a real GPU host"); the image's python3 has nvidia-ml-py.
set -u
# Everything is written to a work folder and comes back as one tarball (the device tool returns few files).
ret="${OUT:-/tmp}"; out=/tmp/cadence-probe; rm -rf "$out"; mkdir -p "$out"
trap 'tar czf "$ret/cadence-probe.tgz" -C "$out" . 2>/dev/null' EXIT
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "wheel install failed"; exit 3; }
  export PYTHONPATH=/tmp/site PATH="/tmp/site/bin:$PATH"
fi
mkdir -p .collections/ansible_collections/gpufleet
ln -sfn "$PWD" .collections/ansible_collections/gpufleet/maintenance
export ANSIBLE_CONFIG="$PWD/ansible.cfg" ANSIBLE_NOCOLOR=1 PYTHONUNBUFFERED=1
# The collections the roles name (community.general's mail, community.docker, community.crypto), carried
# as .devcol/ansible_collections/... copied from the controller's venv (ansible-core alone lacks them).
[ -d .devcol ] && export ANSIBLE_COLLECTIONS_PATH="$PWD/.collections:$PWD/.devcol"
py="$(command -v python3)"
{
  echo "python: $py $($py --version 2>&1)"; uname -a
  $py -c 'import pynvml; print("nvidia-ml-py", getattr(pynvml, "__version__", "?"))'
  ansible-playbook --version 2>&1 | sed -n 1p
  nvidia-smi --query-gpu=name,driver_version,temperature.gpu,temperature.memory,power.draw,memory.used --format=csv
  command -v docker smartctl dkms apt-get dpkg || true
} > "$out/env.txt" 2>&1
cat "$out/env.txt"

PYTHONPATH="${PYTHONPATH:-}:.collections" python3 tests/device/gpu_probe.py --processes --out "$out/probe-idle.json" > /dev/null
echo "gpu_probe idle rc=$?"

# One cadence run: report and history in $OUT, no prerequisites (nothing can be installed there).
cadence() {  # cadence LABEL PLAYBOOK
  local t0=$SECONDS
  ansible-playbook "playbooks/$2.yml" -e gpufleet_prerequisites=false -e "ansible_python_interpreter=$py" \
    -e "gpufleet_report_dir=$out/reports-$1" -e "gpufleet_history_path=$out/history.db" \
    -e '{"gpufleet_report_formats": ["json", "html"]}' > "$out/$1.log" 2>&1
  local rc=$?
  echo "$1 ($2): rc=$rc in $((SECONDS - t0)) s"; grep -E "^localhost|PLAY RECAP" -A1 "$out/$1.log" | tail -2
}
if [ -n "${PROBE_CADENCES:-}" ]; then   # e.g. PROBE_CADENCES="weekly annual": those, idle, instead of the set below
  for c in $PROBE_CADENCES; do cadence "$c" "$c"; done
else
cadence daily-idle daily

python3 tests/device/gpu_load.py 40 20 &
load=$!
sleep 8
cadence daily-load daily
wait "$load"
cadence monthly monthly
cadence quarterly quarterly
fi

# The facts as the modules give them (every area the daily, monthly and quarterly read)
cat > "$out/facts.yml" <<'YML'
- name: The areas' facts as the module gives them
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read every area the daily, monthly and quarterly read
      gpufleet.maintenance.health_facts:
        areas: [host, gpu, driver_stack, docker, smart, maintenance, wsl, exposure]
      register: facts
    - name: Keep them
      ansible.builtin.copy:
        content: "{{ facts.ansible_facts | to_nice_json }}"
        dest: "{{ out }}/facts.json"
        mode: "0644"
YML
ansible-playbook "$out/facts.yml" -e "out=$out" -e "ansible_python_interpreter=$py" > "$out/facts.log" 2>&1
echo "health_facts rc=$?"

python3 - "$out" <<'PY' | tee "$ret/summary.txt"
import glob, json, os, sys
out = sys.argv[1]
for path in sorted(glob.glob(os.path.join(out, "reports-*", "*.json"))):
    try:
        doc = json.load(open(path))
    except ValueError:
        continue
    print("==", os.path.relpath(path, out), "status", doc.get("status"), doc.get("counts"))
    for host in doc.get("hosts", []):
        print(" host", host.get("host"), host.get("status"), host.get("areas"))
    for prob in doc.get("problems", [])[:12]:
        print("  problem", json.dumps(prob)[:300])
try:
    facts = json.load(open(os.path.join(out, "facts.json")))
except (ValueError, LookupError, OSError) as exc:
    print("no facts:", exc)
    facts = {}
for key, area in sorted(facts.items()):
    print("==", key, area.get("status"), area.get("seconds"))
    for c in area.get("checks", []):
        print("   %-8s %-28s %s" % (c.get("status"), c.get("check"), (c.get("message") or "")[:150]))
PY
ls -la "$out"
