"""A private APT and dpkg root: the real apt-get, apt-cache, apt-mark and dpkg-query of this machine
pointed at a directory, so tests can install, hold and upgrade without touching the machine's own
package database.

``AptRoot(path)`` makes ``<path>/var/lib/dpkg`` (a :class:`fake_debs.DpkgRoot`), an ``apt.conf``
naming that status file, its own lists, cache, sources and preferences directories, and a
``file:`` source for a flat repository built by :mod:`aptrepo`. ``env`` is what a process needs
to see that root: ``APT_CONFIG`` (apt) and ``DPKG_ADMINDIR`` (dpkg-query, apt-mark's dpkg).
"""

import os
import subprocess

from testlib.fake_debs import DpkgRoot


class AptRoot(DpkgRoot):
    def __init__(self, root, repo):
        super(AptRoot, self).__init__(root)
        self.repo = str(repo)
        self.etc = os.path.join(self.root, "etc", "apt")
        self.preferences_dir = os.path.join(self.etc, "preferences.d")
        for sub in (self.preferences_dir, os.path.join(self.etc, "sources.list.d"),
                    os.path.join(self.etc, "apt.conf.d"), os.path.join(self.etc, "trusted.gpg.d"),
                    os.path.join(self.root, "var", "lib", "apt", "lists", "partial"),
                    os.path.join(self.root, "var", "cache", "apt", "archives", "partial"),
                    os.path.join(self.root, "var", "log", "apt")):
            os.makedirs(sub, exist_ok=True)
        with open(os.path.join(self.etc, "sources.list"), "w") as handle:
            handle.write("deb [trusted=yes allow-insecure=yes] file:%s ./\n" % self.repo)
        self.config = os.path.join(self.etc, "apt.conf")
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
        with open(self.config, "w") as handle:
            handle.write("\n".join([
                'Dir "%s/";' % self.root,
                'Dir::State::status "%s";' % os.path.join(self.admindir, "status"),
                'Dir::Etc "%s";' % self.etc,
                'Dir::Etc::main "/dev/null";',
                'Dir::Etc::parts "%s";' % os.path.join(self.etc, "apt.conf.d"),
                'Dir::Bin::dpkg "/usr/bin/dpkg";',
                'DPkg::Options { "--admindir=%s"; "--instdir=%s"; "--force-script-chrootless"; "--log=/dev/null"; };'
                % (self.admindir, self.root),
                'Debug::NoLocking "true";',
                'APT::Sandbox::User "root";',
                'Acquire::AllowInsecureRepositories "true";',
                'APT::Architecture "%s";' % arch,
                "",
            ]))
        self.env = {"APT_CONFIG": self.config, "DPKG_ADMINDIR": self.admindir}

    def _env(self):
        env = dict(os.environ)
        env.update(self.env)
        env["LC_ALL"] = "C"
        return env

    def run(self, *argv, **kwargs):
        """Run an apt/dpkg command against this root; the CompletedProcess (text), checked."""
        return subprocess.run(list(argv), env=self._env(), capture_output=True, text=True, check=True, **kwargs)

    def update(self):
        return self.run("apt-get", "update")

    def policy(self, *names):
        return self.run("apt-cache", "policy", *names).stdout

    def pin(self, name, version, priority=1001):
        with open(os.path.join(self.preferences_dir, "gpufleet-package-pin.pref"), "a") as handle:
            handle.write("Package: %s\nPin: version %s\nPin-Priority: %d\n\n" % (name, version, priority))
