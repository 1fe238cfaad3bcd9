/* The CPU topology and the run's placement (bench/topology.c), on fake sysfs trees built in a
 * temporary directory: SMT siblings are kept apart when the machine has another core, and
 * shared with a warning when it has none; NUMA nodes from either sysfs source; malformed or
 * missing files are errors that name them, and the flat fallback warns. Then this machine's
 * real /sys. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/topology.h"
#include "core/fs.h"
#include "test.h"

/* ---- fake sysfs trees ---------------------------------------------------------------------- */

static char root[256];

static void put(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *text, const char *fmt, ...)
{
    char rel[512], path[1024], dir[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof(rel), fmt, ap);
    va_end(ap);
    ap_error *err = NULL;
    if (ap_fs_path(path, sizeof(path), "%s/%s", root, rel) < 0 ||
        ap_fs_dirname(path, dir, sizeof(dir)) < 0) {
        fprintf(stderr, "test_topology: %s/%s does not fit\n", root, rel);
        abort();
    }
    if (ap_fs_mkdir_p(dir, 0755, &err) < 0 ||
        ap_fs_write_atomic(path, text, strlen(text), 0644, &err) < 0) {
        fprintf(stderr, "test_topology: %s\n", err->msg);
        abort();
    }
}

/* cpuN with its thread siblings, core and package, and a nodeM entry unless node < 0. */
static void fake_cpu(int cpu, const char *siblings, int core, int node)
{
    char num[32];
    put(siblings, "devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
    snprintf(num, sizeof(num), "%d\n", core);
    put(num, "devices/system/cpu/cpu%d/topology/core_id", cpu);
    put("0\n", "devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
    if (node >= 0) {
        /* The kernel's entry is a symbolic link to the node's directory: only its name counts. */
        char path[512];
        snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%d/node%d", root, cpu, node);
        mkdir(path, 0755);
    }
}

static void remove_tree(void);

/* A fresh empty tree at root. */
static void fresh_tree(void)
{
    remove_tree();
    snprintf(root, sizeof(root), "/tmp/test-topology.XXXXXX");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static struct ap_cpuset set_of(const char *list)
{
    struct ap_cpuset s = {{0}};
    ap_error *err = NULL;
    if (ap_cpuset_parse(list, &s, &err) < 0)
        abort();
    return s;
}

static const char *text_of(const struct ap_cpuset *s)
{
    static char buf[4][AP_CPUSET_STRLEN];
    static int next;
    char *out = buf[next++ % 4];
    ap_cpuset_format(s, out, AP_CPUSET_STRLEN, NULL);
    return out;
}

static struct ap_topology *topo;

/* Reads the tree for the CPUs `list`; 0 or -1 with err. */
static int read_tree(const char *list, ap_error **err)
{
    struct ap_cpuset cpus = set_of(list);
    return ap_topology_read(root, &cpus, topo, err);
}

/* Every pair of a workload CPU and a load CPU is on two different cores. */
static int cores_apart(const struct ap_placement *p)
{
    for (int w = 0; w < 64; w++)
        for (int l = 0; l < 64; l++)
            if (ap_cpuset_has(&p->workload, w) && ap_cpuset_has(&p->load, l) &&
                (w == l || ap_cpuset_has(&topo->cpu[w].siblings, l)))
                return 0;
    return 1;
}

/* ---- (1) two cores of two threads: siblings 0,2 and 1,3 ------------------------------------ */

static void two_by_two(void)
{
    fresh_tree();
    fake_cpu(0, "0,2\n", 0, 0);
    fake_cpu(1, "1,3\n", 1, 0);
    fake_cpu(2, "0,2\n", 0, 0);
    fake_cpu(3, "1,3\n", 1, 0);
}

TEST(smt_siblings_go_to_one_side)
{
    two_by_two();
    ap_error *err = NULL;
    if (!CHECK_MSG(read_tree("0-3", &err) == 0, "%s", err ? err->msg : "?"))
        return;
    CHECK(topo->known == 1);
    CHECK_MSG(strcmp(text_of(&topo->cpu[2].siblings), "0,2") == 0, "cpu2's siblings %s",
              text_of(&topo->cpu[2].siblings));
    CHECK(topo->cpu[3].core_id == 1 && topo->cpu[3].package_id == 0 && topo->cpu[3].node == 0);
    struct ap_cpuset all = set_of("0-3");
    struct ap_placement p;
    if (!CHECK_MSG(ap_topology_place(topo, &all, NULL, NULL, &p, &err) == 0, "%s",
                   err ? err->msg : "?"))
        return;
    /* The old split by CPU number (load 0-1, workload 2-3) put CPU 2 beside CPU 0. */
    CHECK_MSG(cores_apart(&p), "workload %s and load %s share a core", text_of(&p.workload),
              text_of(&p.load));
    CHECK_MSG(strcmp(text_of(&p.workload), "1,3") == 0 && strcmp(text_of(&p.load), "0,2") == 0,
              "workload %s, load %s; want whole cores 1,3 and 0,2", text_of(&p.workload),
              text_of(&p.load));
    CHECK_MSG(p.warning[0] == '\0' && p.shared_core == 0, "warning \"%s\"", p.warning);
    /* The threads suite: one CPU of each core, no two workers on siblings. */
    CHECK_MSG(strcmp(text_of(&p.threads), "0-1") == 0, "threads on %s", text_of(&p.threads));
    CHECK(p.threads_siblings == 0 && p.threads_warning[0] == '\0');
    CHECK(p.same_node == 1);
}

TEST(given_sets_on_siblings_are_refused_when_there_is_a_choice)
{
    two_by_two();
    ap_error *err = NULL;
    if (!CHECK(read_tree("0-3", &err) == 0))
        return;
    struct ap_cpuset all = set_of("0-3"), wl = set_of("2"), load = set_of("0");
    struct ap_placement p;
    CHECK(ap_topology_place(topo, &all, &wl, &load, &p, &err) == -1);
    CHECK_MSG(test_contains(err ? err->msg : NULL, "CPU 2 (workload) and CPU 0 (load) are SMT "
                                                   "siblings"),
              "%s", err ? err->msg : "accepted");
    CHECK_MSG(test_contains(err ? err->msg : NULL, "the cores here: 0,2 1,3") &&
                  test_contains(err->msg, "workload 1,3, load 0,2"),
              "the hint names no cores or default: %s", err ? err->msg : "?");
    ap_error_release(&err);
    /* Only one of them given: the other half's default still shares CPU 2's core. */
    CHECK(ap_topology_place(topo, &all, &wl, NULL, &p, &err) == -1);
    ap_error_release(&err);
    /* Control: CPUs of different cores pass, without a warning. */
    wl = set_of("3");
    CHECK_MSG(ap_topology_place(topo, &all, &wl, &load, &p, &err) == 0, "%s", err ? err->msg : "?");
    CHECK(p.warning[0] == '\0' && p.shared_core == 0);
    ap_error_release(&err);
    /* The old rules stand: overlap and CPUs outside the allowed set. */
    wl = set_of("0-1");
    CHECK(ap_topology_place(topo, &all, &wl, &load, &p, &err) == -1 &&
          test_contains(err->msg, "CPU 0 is in both"));
    ap_error_release(&err);
    wl = set_of("7");
    CHECK(ap_topology_place(topo, &all, &wl, &load, &p, &err) == -1 &&
          test_contains(err->msg, "CPU 7 is not one this run may use"));
    ap_error_release(&err);
}

/* ---- (2) two CPUs, siblings of one core: no choice ----------------------------------------- */

TEST(one_core_is_shared_with_a_warning)
{
    fresh_tree();
    fake_cpu(0, "0-1\n", 0, 0);
    fake_cpu(1, "0-1\n", 0, 0);
    ap_error *err = NULL;
    if (!CHECK_MSG(read_tree("0-1", &err) == 0, "%s", err ? err->msg : "?"))
        return;
    struct ap_cpuset all = set_of("0-1");
    struct ap_placement p;
    if (!CHECK_MSG(ap_topology_place(topo, &all, NULL, NULL, &p, &err) == 0, "%s",
                   err ? err->msg : "?"))
        return;
    CHECK_MSG(strcmp(text_of(&p.workload), "1") == 0 && strcmp(text_of(&p.load), "0") == 0,
              "workload %s, load %s", text_of(&p.workload), text_of(&p.load));
    CHECK(p.shared_core == 1);
    CHECK_MSG(test_contains(p.warning, "SMT siblings of one physical core (0-1), the only core"),
              "warning \"%s\"", p.warning);
    CHECK(p.threads_siblings == 1 && strcmp(text_of(&p.threads), "0-1") == 0);
    CHECK_MSG(test_contains(p.threads_warning, "threads suite's CPUs (0-1) are SMT siblings"),
              "threads warning \"%s\"", p.threads_warning);
    /* Given sets on the siblings: warned the same way, not refused (there is no other core). */
    struct ap_cpuset wl = set_of("0"), load = set_of("1");
    CHECK(ap_topology_place(topo, &all, &wl, &load, &p, &err) == 0);
    CHECK(p.shared_core == 1 && test_contains(p.warning, "SMT siblings"));
    ap_error_release(&err);
    /* One CPU: both on it, said so. */
    struct ap_cpuset one = set_of("0");
    CHECK(ap_topology_place(topo, &one, NULL, NULL, &p, &err) == 0);
    CHECK_MSG(p.shared_core == 1 && test_contains(p.warning, "share CPU 0, the only one"),
              "warning \"%s\"", p.warning);
    CHECK(p.threads_warning[0] == '\0');
}

/* ---- (3) two CPUs on two cores: this machine's likely case --------------------------------- */

TEST(two_cores_need_no_warning)
{
    fresh_tree();
    fake_cpu(0, "0\n", 0, 0);
    fake_cpu(1, "1\n", 1, 0);
    ap_error *err = NULL;
    if (!CHECK_MSG(read_tree("0-1", &err) == 0, "%s", err ? err->msg : "?"))
        return;
    struct ap_cpuset all = set_of("0-1");
    struct ap_placement p;
    if (!CHECK(ap_topology_place(topo, &all, NULL, NULL, &p, &err) == 0))
        return;
    CHECK(strcmp(text_of(&p.workload), "1") == 0 && strcmp(text_of(&p.load), "0") == 0);
    CHECK_MSG(p.warning[0] == '\0' && p.threads_warning[0] == '\0', "warnings \"%s\" \"%s\"",
              p.warning, p.threads_warning);
    CHECK(p.shared_core == 0 && p.threads_siblings == 0 && p.same_node == 1);
    CHECK(strcmp(text_of(&p.threads), "0-1") == 0);
    cJSON *j = ap_topology_json(topo, &p);
    cJSON *pl = cJSON_GetObjectItemCaseSensitive(j, "placement");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pl, "workload_load_share_core")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "smt")));
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "cores")->valueint == 2);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "cpus")) == 2);
    cJSON_Delete(j);
}

/* ---- (4) two NUMA nodes -------------------------------------------------------------------- */

TEST(split_stays_on_one_numa_node)
{
    /* Nodes interleaved by CPU number (node0: 0,2,4,6; node1: 1,3,5,7 with 5,7 siblings): the
     * split by number (0-3 | 4-7) would cross nodes and put 5 and 7 on two sides. */
    fresh_tree();
    fake_cpu(0, "0\n", 0, 0);
    fake_cpu(2, "2\n", 1, 0);
    fake_cpu(4, "4\n", 2, 0);
    fake_cpu(1, "1\n", 0, 1);
    fake_cpu(3, "3\n", 1, 1);
    fake_cpu(5, "5,7\n", 2, 1);
    fake_cpu(7, "5,7\n", 2, 1);
    fake_cpu(6, "6\n", 3, 0);
    ap_error *err = NULL;
    if (!CHECK_MSG(read_tree("0-7", &err) == 0, "%s", err ? err->msg : "?"))
        return;
    CHECK(topo->cpu[6].node == 0 && topo->cpu[7].node == 1);
    struct ap_cpuset all = set_of("0-7");
    struct ap_placement p;
    if (!CHECK(ap_topology_place(topo, &all, NULL, NULL, &p, &err) == 0))
        return;
    /* Node0 has 4 cores (0,2,4,6), node1 3 (1,3,5+7): node0, split 0,2 | 4,6. */
    CHECK_MSG(strcmp(text_of(&p.load), "0,2") == 0 && strcmp(text_of(&p.workload), "4,6") == 0,
              "load %s, workload %s; want 0,2 and 4,6 (node0)", text_of(&p.load),
              text_of(&p.workload));
    CHECK(p.same_node == 1 && cores_apart(&p) && p.warning[0] == '\0');
    /* The threads suite spans the nodes, one CPU per core. */
    CHECK_MSG(strcmp(text_of(&p.threads), "0-6") == 0, "threads %s", text_of(&p.threads));
    /* Given sets on two nodes are allowed, and recorded as such. */
    struct ap_cpuset wl = set_of("1"), load = set_of("0");
    CHECK(ap_topology_place(topo, &all, &wl, &load, &p, &err) == 0 && p.same_node == 0);
    ap_error_release(&err);
    cJSON *j = ap_topology_json(topo, &p);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "nodes")->valueint == 2);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "smt")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "placement"), "workload_load_same_node")));
    cJSON_Delete(j);
}

TEST(numa_nodes_from_node_cpulists_and_one_core_per_node)
{
    /* No cpuN/nodeM entries: the nodes come from node/nodeM/cpulist (node2 has memory only). */
    fresh_tree();
    fake_cpu(0, "0\n", 0, -1);
    fake_cpu(1, "1\n", 0, -1);
    put("0\n", "devices/system/node/node0/cpulist");
    put("1\n", "devices/system/node/node1/cpulist");
    put("\n", "devices/system/node/node2/cpulist");
    ap_error *err = NULL;
    if (!CHECK_MSG(read_tree("0-1", &err) == 0, "%s", err ? err->msg : "?"))
        return;
    CHECK(topo->cpu[0].node == 0 && topo->cpu[1].node == 1);
    struct ap_cpuset all = set_of("0-1");
    struct ap_placement p;
    /* One core per node: no node holds both, so they go to different nodes, unwarned. */
    CHECK(ap_topology_place(topo, &all, NULL, NULL, &p, &err) == 0);
    CHECK(strcmp(text_of(&p.load), "0") == 0 && strcmp(text_of(&p.workload), "1") == 0);
    CHECK(p.same_node == 0 && p.warning[0] == '\0');
    ap_error_release(&err);
    /* A CPU that two sources put on different nodes is an error. */
    char path[512];
    snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu1/node0", root);
    mkdir(path, 0755);
    CHECK(read_tree("0-1", &err) == -1);
    CHECK_MSG(test_contains(err ? err->msg : NULL, "node1/cpulist lists cpu1, which is on node0"),
              "%s", err ? err->msg : "accepted");
    ap_error_release(&err);
    /* No NUMA information at all: node unknown (-1), recorded as null. */
    fresh_tree();
    fake_cpu(0, "0\n", 0, -1);
    fake_cpu(1, "1\n", 1, -1);
    CHECK(read_tree("0-1", &err) == 0 && topo->cpu[0].node == -1);
    CHECK(ap_topology_place(topo, &all, NULL, NULL, &p, &err) == 0 && p.same_node == -1);
    cJSON *j = ap_topology_json(topo, &p);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "nodes")));
    cJSON_Delete(j);
    ap_error_release(&err);
}

/* ---- (5) missing and malformed files ------------------------------------------------------- */

/* Reading 0-1 fails with a message holding `want`, and leaves *topo alone. */
static void read_fails(const char *want, int line)
{
    ap_error *err = NULL;
    topo->known = 42;
    int rc = read_tree("0-1", &err);
    CHECK_MSG(rc == -1 && test_contains(err ? err->msg : NULL, want),
              "line %d: rc %d, \"%s\", want \"%s\"", line, rc, err ? err->msg : "", want);
    CHECK_MSG(topo->known == 42, "line %d: the topology was written on failure", line);
    ap_error_release(&err);
}

TEST(missing_or_malformed_files_are_errors_naming_them)
{
    fresh_tree();
    fake_cpu(0, "0\n", 0, 0);
    read_fails("cpu1/topology/thread_siblings_list: No such file", __LINE__);
    fake_cpu(1, "1-x\n", 1, 0);
    read_fails("cpu1/topology/thread_siblings_list: CPU list \"1-x", __LINE__);
    fake_cpu(1, "0\n", 1, 0);
    read_fails("cpu1/topology/thread_siblings_list does not list cpu1 itself", __LINE__);
    fake_cpu(1, "0-1\n", 1, 0);
    read_fails("cpu1's thread siblings are 0-1, but cpu0's are 0", __LINE__);
    fake_cpu(1, "1\n", 1, 0);
    put("one\n", "devices/system/cpu/cpu1/topology/core_id");
    read_fails("cpu1/topology/core_id holds \"one\", not a number", __LINE__);
    put("1\n", "devices/system/cpu/cpu1/topology/core_id");
    put("", "devices/system/cpu/cpu1/topology/physical_package_id");
    read_fails("cpu1/topology/physical_package_id holds \"\", not a number", __LINE__);
    put("0\n", "devices/system/cpu/cpu1/topology/physical_package_id");
    char path[512];
    snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu1/node3", root);
    mkdir(path, 0755);
    read_fails("cpu1 names two NUMA nodes", __LINE__);
    rmdir(path);
    put("0-\n", "devices/system/node/node0/cpulist");
    read_fails("node0/cpulist: CPU list \"0-", __LINE__);
    /* Control: the same tree with the node list repaired reads. */
    put("0-1\n", "devices/system/node/node0/cpulist");
    ap_error *err = NULL;
    CHECK_MSG(read_tree("0-1", &err) == 0, "%s", err ? err->msg : "?");
    ap_error_release(&err);
}

TEST(the_flat_fallback_splits_by_number_and_warns)
{
    fresh_tree();
    ap_error *err = NULL;
    CHECK(read_tree("0-3", &err) == -1);
    if (!CHECK(err != NULL))
        return;
    ap_topology_assume_flat(&(struct ap_cpuset){{0xf}}, err->msg, topo);
    struct ap_cpuset all = set_of("0-3");
    struct ap_placement p;
    ap_error *e2 = NULL;
    if (!CHECK(ap_topology_place(topo, &all, NULL, NULL, &p, &e2) == 0))
        return;
    CHECK(strcmp(text_of(&p.load), "0-1") == 0 && strcmp(text_of(&p.workload), "2-3") == 0);
    CHECK_MSG(test_contains(p.warning, "the CPU topology is unknown (opening ") &&
                  test_contains(p.warning, "may be SMT siblings"),
              "warning \"%s\"", p.warning);
    CHECK(test_contains(p.threads_warning, "the threads suite's CPUs (0-3) may include"));
    CHECK(p.shared_core == -1 && p.threads_siblings == -1);
    cJSON *j = ap_topology_json(topo, &p);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(j, "source")->valuestring, "unknown") == 0);
    CHECK(test_contains(cJSON_GetObjectItemCaseSensitive(j, "error")->valuestring, "opening"));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "placement"), "workload_load_share_core")));
    cJSON_Delete(j);
    ap_error_release(&err);
}

/* ---- this machine -------------------------------------------------------------------------- */

TEST(this_machine_reads)
{
    struct ap_cpuset online;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_cpuset_online(&online, &err) == 0, "%s", err ? err->msg : "?"))
        return;
    int rc = ap_topology_read(AP_TOPOLOGY_SYSFS, &online, topo, &err);
    CHECK_MSG(rc == 0, "%s", err ? err->msg : "?");
    ap_error_release(&err);
    struct ap_placement p;
    if (rc == 0 && CHECK(ap_topology_place(topo, &online, NULL, NULL, &p, &err) == 0))
        test_note("here: CPUs %s, workload %s, load %s, threads %s%s%s", text_of(&online),
                  text_of(&p.workload), text_of(&p.load), text_of(&p.threads),
                  p.warning[0] ? "; warning: " : "", p.warning);
    ap_error_release(&err);
}

static void remove_tree(void)
{
    ap_error *err = NULL;
    if (root[0] != '\0')
        ap_fs_remove_tree(root, &err);
    ap_error_release(&err);
}

static int setup(void)
{
    topo = calloc(1, sizeof(*topo));
    atexit(remove_tree);
    return topo == NULL ? -1 : 0;
}
TEST_SETUP(setup)
