/*
 * A test double of libnvidia-ml.so.1 for gpufleet.maintenance: the real nvidia-ml-py (pynvml)
 * loads it through LD_LIBRARY_PATH and calls it like the driver's NVML.
 *
 * It answers from a scenario file named by $GPUFLEET_NVML_SCENARIO, read at each
 * nvmlInitWithFlags(): one "key=value" per line (written by tests/testlib/nvml_double.py from a
 * JSON scenario). Keys: init (return code of init), driver_version, nvml_version, cuda, count,
 * gpu.N.handle (return code of nvmlDeviceGetHandleByIndex_v2), gpu.N.error (return code of every
 * call on that GPU), gpu.N.<reading>; proc.PID=name. A value "!C" makes that call return NVML
 * code C; a reading that is absent returns NVML_ERROR_NOT_SUPPORTED. Struct layouts follow
 * pynvml.py of nvidia-ml-py 13. $GPUFLEET_NVML_INIT_LOG, when set, gets a line per init (note_init).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK 0
#define E_UNINIT 1
#define E_INVALID 2
#define E_NOT_SUPPORTED 3
#define E_INSUFFICIENT 7
#define E_NOT_FOUND 6

#define MAX_ENTRIES 4096
#define MAX_GPUS 64

static char *keys[MAX_ENTRIES];
static char *vals[MAX_ENTRIES];
static int n_entries = 0;
static int initialized = 0;

typedef struct { int index; } device_t;
static device_t devices[MAX_GPUS];

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} pci_t;
typedef struct { unsigned long long total, free, used; } mem_v1_t;
typedef struct { unsigned int version; unsigned long long total, reserved, free, used; } mem_v2_t;
typedef struct { unsigned int gpu, memory; } util_t;
typedef union { double d; unsigned int ui; unsigned long ul; unsigned long long ull; long long sll; int si; unsigned short us; } value_t;
typedef struct {
    uint32_t fieldId, scopeId;
    int64_t timestamp, latencyUsec;
    unsigned int valueType, nvmlReturn;
    value_t value;
} field_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; } proc_t;

static void clear(void) {
    for (int i = 0; i < n_entries; i++) { free(keys[i]); free(vals[i]); }
    n_entries = 0;
}

static int load(void) {
    const char *path = getenv("GPUFLEET_NVML_SCENARIO");
    clear();
    if (!path) return E_UNINIT;
    FILE *f = fopen(path, "r");
    if (!f) return E_UNINIT;
    char line[8192];
    while (fgets(line, sizeof line, f) && n_entries < MAX_ENTRIES) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        char *eq = strchr(line, '=');
        if (!eq || line[0] == '#') continue;
        *eq = 0;
        keys[n_entries] = strdup(line);
        vals[n_entries] = strdup(eq + 1);
        n_entries++;
    }
    fclose(f);
    return OK;
}

static const char *lookup(const char *key) {
    for (int i = 0; i < n_entries; i++)
        if (strcmp(keys[i], key) == 0) return vals[i];
    return NULL;
}

static int ival(const char *key, int fallback) {
    const char *v = lookup(key);
    return v ? atoi(v) : fallback;
}

/* Value of gpu.N.<name>: OK and *out, or the NVML code to return. */
static int dev_get(void *handle, const char *name, const char **out) {
    char key[256];
    if (!initialized) return E_UNINIT;
    if (!handle) return E_INVALID;
    int index = ((device_t *)handle)->index;
    snprintf(key, sizeof key, "gpu.%d.error", index);
    const char *err = lookup(key);
    if (err) return atoi(err);
    snprintf(key, sizeof key, "gpu.%d.%s", index, name);
    const char *v = lookup(key);
    if (!v) return E_NOT_SUPPORTED;
    if (v[0] == '!') return atoi(v + 1);
    *out = v;
    return OK;
}

static int dev_uint(void *h, const char *name, unsigned int *out) {
    const char *v = NULL;
    int rc = dev_get(h, name, &v);
    if (rc == OK) *out = (unsigned int)strtoul(v, NULL, 10);
    return rc;
}

static int dev_ull(void *h, const char *name, unsigned long long *out) {
    const char *v = NULL;
    int rc = dev_get(h, name, &v);
    if (rc == OK) *out = strtoull(v, NULL, 0);
    return rc;
}

static int dev_str(void *h, const char *name, char *buf, unsigned int size) {
    const char *v = NULL;
    int rc = dev_get(h, name, &v);
    if (rc != OK) return rc;
    if (strlen(v) + 1 > size) return E_INSUFFICIENT;
    strcpy(buf, v);
    return OK;
}

static int sys_str(const char *key, char *buf, unsigned int size) {
    if (!initialized) return E_UNINIT;
    const char *v = lookup(key);
    if (!v) return E_NOT_SUPPORTED;
    if (v[0] == '!') return atoi(v + 1);
    if (strlen(v) + 1 > size) return E_INSUFFICIENT;
    strcpy(buf, v);
    return OK;
}

/* With $GPUFLEET_NVML_INIT_LOG set, one line per init is appended there once the scenario is read
 * ("init " and the command line of the process), so a test can wait for a reading to have happened
 * before it changes the scenario, and see which program read. */
static void note_init(void) {
    const char *path = getenv("GPUFLEET_NVML_INIT_LOG");
    if (!path) return;
    char cmdline[512] = {0};
    size_t n = 0;
    FILE *c = fopen("/proc/self/cmdline", "r");
    if (c) {
        n = fread(cmdline, 1, sizeof cmdline - 1, c);
        fclose(c);
    }
    for (size_t i = 0; i < n; i++)
        if (cmdline[i] == 0 || cmdline[i] == '\n') cmdline[i] = ' ';
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "init %s\n", cmdline);
    fclose(f);
}

int nvmlInitWithFlags(unsigned int flags) {
    (void)flags;
    int rc = load();
    note_init();
    if (rc != OK) return rc;
    rc = ival("init", OK);
    initialized = (rc == OK);
    return rc;
}
int nvmlInit_v2(void) { return nvmlInitWithFlags(0); }
int nvmlInit(void) { return nvmlInitWithFlags(0); }
int nvmlShutdown(void) { initialized = 0; return OK; }

const char *nvmlErrorString(int code) {
    switch (code) {
    case 0: return "Success";
    case 3: return "Not Supported";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 18: return "RM has detected an NVML/RM version mismatch.";
    case 999: return "Unknown Error";
    default: return "NVML error (test double)";
    }
}

int nvmlSystemGetDriverVersion(char *buf, unsigned int size) { return sys_str("driver_version", buf, size); }
int nvmlSystemGetNVMLVersion(char *buf, unsigned int size) { return sys_str("nvml_version", buf, size); }
int nvmlSystemGetCudaDriverVersion(int *v) {
    if (!initialized) return E_UNINIT;
    const char *s = lookup("cuda");
    if (!s) return E_NOT_SUPPORTED;
    *v = atoi(s);
    return OK;
}
int nvmlSystemGetCudaDriverVersion_v2(int *v) { return nvmlSystemGetCudaDriverVersion(v); }
int nvmlSystemGetProcessName(unsigned int pid, char *buf, unsigned int size) {
    char key[64];
    snprintf(key, sizeof key, "proc.%u", pid);
    int rc = sys_str(key, buf, size);
    return rc == E_NOT_SUPPORTED ? E_NOT_FOUND : rc;
}

int nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!initialized) return E_UNINIT;
    *count = (unsigned int)ival("count", 0);
    return OK;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **handle) {
    char key[64];
    if (!initialized) return E_UNINIT;
    if (index >= (unsigned int)ival("count", 0) || index >= MAX_GPUS) return E_INVALID;
    snprintf(key, sizeof key, "gpu.%u.handle", index);
    int rc = ival(key, OK);
    if (rc != OK) return rc;
    devices[index].index = (int)index;
    *handle = &devices[index];
    return OK;
}

int nvmlDeviceGetName(void *h, char *b, unsigned int n) { return dev_str(h, "name", b, n); }
int nvmlDeviceGetUUID(void *h, char *b, unsigned int n) { return dev_str(h, "uuid", b, n); }
int nvmlDeviceGetSerial(void *h, char *b, unsigned int n) { return dev_str(h, "serial", b, n); }
int nvmlDeviceGetVbiosVersion(void *h, char *b, unsigned int n) { return dev_str(h, "vbios", b, n); }

int nvmlDeviceGetPciInfo_v3(void *h, pci_t *pci) {
    const char *v = NULL;
    int rc = dev_get(h, "bus_id", &v);
    if (rc != OK) return rc;
    memset(pci, 0, sizeof *pci);
    snprintf(pci->busId, sizeof pci->busId, "%s", v);
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%s", v);
    unsigned int domain = 0, bus = 0, dev = 0;
    sscanf(v, "%x:%x:%x", &domain, &bus, &dev);
    pci->domain = domain; pci->bus = bus; pci->device = dev;
    return OK;
}

int nvmlDeviceGetTemperature(void *h, int sensor, unsigned int *t) { (void)sensor; return dev_uint(h, "temp", t); }
int nvmlDeviceGetTemperatureThreshold(void *h, int which, unsigned int *t) {
    char name[32];
    snprintf(name, sizeof name, "thr.%d", which);
    return dev_uint(h, name, t);
}
int nvmlDeviceGetPowerUsage(void *h, unsigned int *mw) { return dev_uint(h, "power_mw", mw); }
int nvmlDeviceGetEnforcedPowerLimit(void *h, unsigned int *mw) { return dev_uint(h, "limit_mw", mw); }
int nvmlDeviceGetPowerManagementLimit(void *h, unsigned int *mw) { return dev_uint(h, "limit_mw", mw); }
int nvmlDeviceGetPowerManagementDefaultLimit(void *h, unsigned int *mw) { return dev_uint(h, "default_limit_mw", mw); }
int nvmlDeviceGetPowerManagementLimitConstraints(void *h, unsigned int *lo, unsigned int *hi) {
    int rc = dev_uint(h, "max_limit_mw", hi);
    if (rc != OK) return rc;
    unsigned int v = 0;
    *lo = dev_uint(h, "min_limit_mw", &v) == OK ? v : 0;
    return OK;
}
int nvmlDeviceGetFanSpeed(void *h, unsigned int *pct) { return dev_uint(h, "fan", pct); }

int nvmlDeviceGetMemoryInfo(void *h, mem_v1_t *m) {
    unsigned long long total = 0, used = 0;
    int rc = dev_ull(h, "mem_total", &total);
    if (rc != OK) return rc;
    dev_ull(h, "mem_used", &used);
    unsigned long long reserved = 0;
    dev_ull(h, "mem_reserved", &reserved);
    m->total = total; m->used = used + reserved; m->free = total - used - reserved;
    return OK;
}
int nvmlDeviceGetMemoryInfo_v2(void *h, mem_v2_t *m) {
    unsigned long long total = 0, used = 0, reserved = 0;
    if (m->version != 0x02000028) return 25; /* NVML_ERROR_ARGUMENT_VERSION_MISMATCH */
    int rc = dev_ull(h, "mem_total", &total);
    if (rc != OK) return rc;
    dev_ull(h, "mem_used", &used);
    dev_ull(h, "mem_reserved", &reserved);
    m->total = total; m->reserved = reserved; m->used = used; m->free = total - used - reserved;
    return OK;
}
int nvmlDeviceGetUtilizationRates(void *h, util_t *u) {
    int rc = dev_uint(h, "util_gpu", &u->gpu);
    if (rc != OK) return rc;
    unsigned int mem = 0;
    u->memory = dev_uint(h, "util_mem", &mem) == OK ? mem : 0;
    return OK;
}
int nvmlDeviceGetClockInfo(void *h, int type, unsigned int *mhz) {
    char name[32];
    snprintf(name, sizeof name, "clock.%d", type);
    return dev_uint(h, name, mhz);
}
int nvmlDeviceGetCurrentClocksEventReasons(void *h, unsigned long long *mask) { return dev_ull(h, "reasons", mask); }
int nvmlDeviceGetCurrentClocksThrottleReasons(void *h, unsigned long long *mask) { return dev_ull(h, "reasons", mask); }

int nvmlDeviceGetEccMode(void *h, unsigned int *cur, unsigned int *pend) {
    int rc = dev_uint(h, "ecc_mode", cur);
    if (rc == OK) *pend = *cur;
    return rc;
}
int nvmlDeviceGetTotalEccErrors(void *h, int type, int counter, unsigned long long *count) {
    char name[32];
    snprintf(name, sizeof name, "ecc.%d.%d", type, counter);
    return dev_ull(h, name, count);
}
int nvmlDeviceGetRetiredPages(void *h, int cause, unsigned int *count, unsigned long long *addresses) {
    char name[32];
    unsigned int n = 0;
    snprintf(name, sizeof name, "pages.%d", cause);
    int rc = dev_uint(h, name, &n);
    if (rc != OK) return rc;
    if (addresses == NULL || *count < n) { *count = n; return n ? E_INSUFFICIENT : OK; }
    for (unsigned int i = 0; i < n; i++) addresses[i] = 0x1000ULL * (i + 1);
    *count = n;
    return OK;
}
int nvmlDeviceGetRetiredPagesPendingStatus(void *h, unsigned int *pending) { return dev_uint(h, "pages_pending", pending); }
int nvmlDeviceGetRemappedRows(void *h, unsigned int *corr, unsigned int *unc, unsigned int *pending, unsigned int *failure) {
    const char *v = NULL;
    int rc = dev_get(h, "remap", &v);
    if (rc != OK) return rc;
    if (sscanf(v, "%u,%u,%u,%u", corr, unc, pending, failure) != 4) return 999;
    return OK;
}
int nvmlDeviceGetCurrPcieLinkGeneration(void *h, unsigned int *v) { return dev_uint(h, "pcie_gen", v); }
int nvmlDeviceGetMaxPcieLinkGeneration(void *h, unsigned int *v) { return dev_uint(h, "pcie_gen_max", v); }
int nvmlDeviceGetCurrPcieLinkWidth(void *h, unsigned int *v) { return dev_uint(h, "pcie_width", v); }
int nvmlDeviceGetMaxPcieLinkWidth(void *h, unsigned int *v) { return dev_uint(h, "pcie_width_max", v); }
int nvmlDeviceGetPersistenceMode(void *h, unsigned int *v) { return dev_uint(h, "persistence", v); }
int nvmlDeviceGetComputeMode(void *h, unsigned int *v) { return dev_uint(h, "compute_mode", v); }

int nvmlDeviceGetFieldValues(void *h, int count, field_t *values) {
    const char *dummy = NULL;
    int rc = dev_get(h, "__none__", &dummy);
    if (rc != OK && rc != E_NOT_SUPPORTED) return rc; /* a lost GPU fails the whole call */
    for (int i = 0; i < count; i++) {
        char name[32];
        const char *v = NULL;
        snprintf(name, sizeof name, "field.%u", values[i].fieldId);
        values[i].valueType = 1; /* NVML_VALUE_TYPE_UNSIGNED_INT */
        values[i].value.ull = 0;
        values[i].timestamp = 0;
        values[i].latencyUsec = 0;
        int frc = dev_get(h, name, &v);
        values[i].nvmlReturn = (unsigned int)frc;
        if (frc == OK) values[i].value.ui = (unsigned int)strtoul(v, NULL, 10);
    }
    return OK;
}

/* "pid:bytes;pid:bytes" (bytes may be "na" for NVML_VALUE_NOT_AVAILABLE). */
static int procs(void *h, const char *name, unsigned int *count, proc_t *infos) {
    const char *v = NULL;
    int rc = dev_get(h, name, &v);
    if (rc == E_NOT_SUPPORTED) { *count = 0; return OK; }
    if (rc != OK) return rc;
    unsigned int n = 0;
    for (const char *p = v; *p; p++) if (*p == ';') n++;
    if (*v) n++;
    if (infos == NULL || *count < n) { *count = n; return n ? E_INSUFFICIENT : OK; }
    const char *p = v;
    for (unsigned int i = 0; i < n; i++) {
        char item[128];
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= sizeof item) len = sizeof item - 1;
        memcpy(item, p, len); item[len] = 0;
        char *colon = strchr(item, ':');
        memset(&infos[i], 0, sizeof infos[i]);
        infos[i].pid = (unsigned int)strtoul(item, NULL, 10);
        infos[i].usedGpuMemory = (colon && strcmp(colon + 1, "na") != 0) ? strtoull(colon + 1, NULL, 10) : ~0ULL;
        infos[i].gpuInstanceId = 0xFFFFFFFFu;
        infos[i].computeInstanceId = 0xFFFFFFFFu;
        p = end ? end + 1 : p + len;
    }
    *count = n;
    return OK;
}
int nvmlDeviceGetComputeRunningProcesses_v3(void *h, unsigned int *count, proc_t *infos) { return procs(h, "procs_c", count, infos); }
int nvmlDeviceGetGraphicsRunningProcesses_v3(void *h, unsigned int *count, proc_t *infos) { return procs(h, "procs_g", count, infos); }
