"""NVIDIA's table of CUDA toolkit releases and their minimum Linux drivers, written out for the tests.

The expected values of the CUDA compatibility tests come from here, not from the collection's data
(plugins/module_utils/_cuda_data.py): a wrong row there fails a test.
"""

# NVIDIA, CUDA Toolkit Release Notes, table "CUDA Toolkit and Corresponding Driver Versions",
# column "Linux x86_64 Driver Version" (the "Toolkit Driver Version" rows, >= minimum):
# https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html (as of 13.2 GA), and for
# 13.2 Update 1 the notes of that release (https://docs.nvidia.com/cuda/archive/13.2.1/).
# The release version is the toolkit's own (version.json, cuda-toolkit-X-Y): "12.4 Update 1" is
# 12.4.1; 11.0 GA is 11.0.2 (11.0.1 was a release candidate). There was no CUDA 12.7.
NVIDIA_TABLE = [
    ("11.0.2", "CUDA 11.0 GA", "450.51.05"),
    ("11.0.3", "CUDA 11.0 Update 1", "450.51.06"),
    ("11.1.0", "CUDA 11.1 GA", "455.23"),
    ("11.1.1", "CUDA 11.1 Update 1", "455.32"),
    ("11.2.0", "CUDA 11.2 GA", "460.27.03"),
    ("11.2.1", "CUDA 11.2 Update 1", "460.32.03"),
    ("11.2.2", "CUDA 11.2 Update 2", "460.32.03"),
    ("11.3.0", "CUDA 11.3 GA", "465.19.01"),
    ("11.3.1", "CUDA 11.3 Update 1", "465.19.01"),
    ("11.4.0", "CUDA 11.4 GA", "470.42.01"),
    ("11.4.1", "CUDA 11.4 Update 1", "470.57.02"),
    ("11.4.2", "CUDA 11.4 Update 2", "470.57.02"),
    ("11.4.3", "CUDA 11.4 Update 3", "470.82.01"),
    ("11.4.4", "CUDA 11.4 Update 4", "470.82.01"),
    ("11.5.0", "CUDA 11.5 GA", "495.29.05"),
    ("11.5.1", "CUDA 11.5 Update 1", "495.29.05"),
    ("11.5.2", "CUDA 11.5 Update 2", "495.29.05"),
    ("11.6.0", "CUDA 11.6 GA", "510.39.01"),
    ("11.6.1", "CUDA 11.6 Update 1", "510.47.03"),
    ("11.6.2", "CUDA 11.6 Update 2", "510.47.03"),
    ("11.7.0", "CUDA 11.7 GA", "515.43.04"),
    ("11.7.1", "CUDA 11.7 Update 1", "515.48.07"),
    ("11.8.0", "CUDA 11.8 GA", "520.61.05"),
    ("12.0.0", "CUDA 12.0 GA", "525.60.13"),
    ("12.0.1", "CUDA 12.0 Update 1", "525.85.12"),
    ("12.1.0", "CUDA 12.1 GA", "530.30.02"),
    ("12.1.1", "CUDA 12.1 Update 1", "530.30.02"),
    ("12.2.0", "CUDA 12.2 GA", "535.54.03"),
    ("12.2.1", "CUDA 12.2 Update 1", "535.86.09"),
    ("12.2.2", "CUDA 12.2 Update 2", "535.104.05"),
    ("12.3.0", "CUDA 12.3 GA", "545.23.06"),
    ("12.3.1", "CUDA 12.3 Update 1", "545.23.08"),
    ("12.4.0", "CUDA 12.4 GA", "550.54.14"),
    ("12.4.1", "CUDA 12.4 Update 1", "550.54.15"),
    ("12.5.0", "CUDA 12.5 GA", "555.42.02"),
    ("12.5.1", "CUDA 12.5 Update 1", "555.42.06"),
    ("12.6.0", "CUDA 12.6 GA", "560.28.03"),
    ("12.6.1", "CUDA 12.6 Update 1", "560.35.03"),
    ("12.6.2", "CUDA 12.6 Update 2", "560.35.03"),
    ("12.6.3", "CUDA 12.6 Update 3", "560.35.05"),
    ("12.8.0", "CUDA 12.8 GA", "570.26"),
    ("12.8.1", "CUDA 12.8 Update 1", "570.124.06"),
    ("12.9.0", "CUDA 12.9 GA", "575.51.03"),
    ("12.9.1", "CUDA 12.9 Update 1", "575.57.08"),
    ("13.0.0", "CUDA 13.0 GA", "580.65.06"),
    ("13.0.1", "CUDA 13.0 Update 1", "580.82.07"),
    ("13.0.2", "CUDA 13.0 Update 2", "580.95.05"),
    ("13.1.0", "CUDA 13.1 GA", "590.44.01"),
    ("13.1.1", "CUDA 13.1 Update 1", "590.48.01"),
    ("13.2.0", "CUDA 13.2 GA", "595.45.04"),
    ("13.2.1", "CUDA 13.2 Update 1", "595.58.03"),
]
# A release newer than the table above, from its own notes (the source the collection's data names;
# not cross-checked against a second copy of the table here):
# https://docs.nvidia.com/cuda/archive/13.2.2/cuda-toolkit-release-notes/index.html
LATER_UPDATES = {"13.2.2": "595.71.05"}
GA = dict(("%s.%s" % tuple(row[0].split(".")[:2]), row[2]) for row in NVIDIA_TABLE if row[1].endswith(" GA"))


def key(version):
    """``'550.54.14'`` → ``(550, 54, 14, 0)``, padded for comparisons (written here, not the module's)."""
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def below(driver):
    """The driver version just below ``driver`` (550.54.14 → 550.54.13, 570.26 → 570.25)."""
    parts = [int(p) for p in driver.split(".")]
    parts[-1] -= 1
    return ".".join(str(p) for p in parts)


def newest_cuda(driver):
    """The newest CUDA minor (``major.minor``) whose release in NVIDIA_TABLE the driver meets."""
    met = [row[0] for row in NVIDIA_TABLE if key(row[2]) <= key(driver)]
    return "%s.%s" % tuple(max(met, key=key).split(".")[:2]) if met else None


def min_driver(cuda):
    """The minimum driver NVIDIA_TABLE gives for ``12.4`` (its GA) or ``12.4.1``; None when absent."""
    if cuda.count(".") == 1:
        return GA.get(cuda)
    return dict((row[0], row[2]) for row in NVIDIA_TABLE).get(cuda) or LATER_UPDATES.get(cuda)
