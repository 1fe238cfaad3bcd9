/* The machine's CPU topology as sysfs tells it (which CPUs are SMT siblings of one physical
 * core, which package and NUMA node each sits on) and the placement of a run built on it: the
 * workload on some cores, the load generator and the orchestrator on others, the threads
 * suite on one CPU per core.
 *
 *     struct ap_topology *t = calloc(1, sizeof(*t));
 *     if (ap_topology_read(AP_TOPOLOGY_SYSFS, &allowed, t, &e) < 0)
 *         ap_topology_assume_flat(&allowed, e->msg, t);      the documented fallback
 *     ap_topology_place(t, &allowed, NULL, NULL, &placement, err);
 *     cJSON_AddItemToObject(env, "topology", ap_topology_json(t, &placement));
 *
 * Every function takes the sysfs root as a parameter or reads nothing, so the tests run on
 * fake trees. */
#ifndef AP_BENCH_TOPOLOGY_H
#define AP_BENCH_TOPOLOGY_H

#include <cjson/cJSON.h>

#include "../core/cpuset.h"
#include "../core/error.h"

#define AP_TOPOLOGY_SYSFS "/sys"
#define AP_TOPOLOGY_TEXT 1024

struct ap_topology_cpu {
    long core_id, package_id;  /* topology/core_id, topology/physical_package_id */
    int node;                  /* the NUMA node, or -1 when the kernel names none */
    struct ap_cpuset siblings; /* topology/thread_siblings_list (the CPU among them) */
};

/* What is known of the CPUs in `cpus`. About 160 KiB: allocate it on the heap. */
struct ap_topology {
    struct ap_cpuset cpus;              /* the CPUs described */
    int known;                          /* 1: read from sysfs; 0: assumed flat (see why) */
    char why_unknown[AP_TOPOLOGY_TEXT]; /* when !known: the reading's error */
    struct ap_topology_cpu cpu[AP_CPUSET_MAX];
};

/* Reads the topology of every CPU in *cpus from <root>/devices/system/cpu/cpuN/topology/
 * (thread_siblings_list, core_id and physical_package_id, all required) and its NUMA node from
 * the cpuN/nodeM entry, or else from <root>/devices/system/node/nodeM/cpulist. A kernel with
 * no NUMA information at all (no nodeM entry and no node directory) gives node -1 everywhere,
 * which placement treats as one node. A missing or malformed file, a sibling list that leaves
 * out its own CPU, two CPUs that disagree about being siblings, or a CPU on two nodes is an
 * error naming the file and quoting what it holds. *out (caller's) is filled, known = 1, only
 * on success. */
int ap_topology_read(const char *root, const struct ap_cpuset *cpus, struct ap_topology *out,
                     ap_error **err);

/* The fallback when the topology cannot be read: every CPU in *cpus a core of its own on no
 * known node (so placement splits CPUs as if there were no SMT), known = 0 and `why` kept
 * (cut to AP_TOPOLOGY_TEXT) for the warnings placement then writes. */
void ap_topology_assume_flat(const struct ap_cpuset *cpus, const char *why,
                             struct ap_topology *out);

/* Where a run's processes go, and what the figures must say about it. */
struct ap_placement {
    struct ap_cpuset workload; /* the measured programs and servers */
    struct ap_cpuset load;     /* the load generator and the orchestrator */
    struct ap_cpuset threads;  /* the threads suite's workers */
    /* 1 / 0, or -1 where the topology or a node is unknown: */
    int shared_core;      /* workload and load share a physical core (or a CPU) */
    int same_node;        /* workload and load are on one NUMA node */
    int threads_siblings; /* the threads suite's CPUs include SMT siblings */
    /* A CPU list in a warning is cut at 100 bytes (environment.cpus has it whole). */
    char warning[AP_TOPOLOGY_TEXT];         /* "" or why workload and load may share a core */
    char threads_warning[AP_TOPOLOGY_TEXT]; /* "" or why the threads suite may share one */
};

/* Places a run on *allowed (the CPUs online and in our affinity, all described by *t).
 * Default (want_workload and want_load NULL): whole cores, never SMT siblings apart, within the
 * NUMA node that has the most allowed cores (ties: the lowest node) when it has two or more,
 * else across nodes; of those cores the lower half (by lowest CPU number) carries the load,
 * the upper half (the larger one when odd) the workload; the other nodes' CPUs stay unused.
 * Only when *allowed spans one core are the workload and the load put on its SMT siblings
 * (or, with one CPU, on that CPU) and *warning says so. The threads suite gets the lowest
 * allowed CPU of every core, on every node; only one core gives it that core's siblings, with
 * *threads_warning. A topology assumed flat warns in both (it cannot tell siblings apart).
 * A set given replaces its default half. Given or not, the sets must be non-empty, within
 * *allowed and disjoint (unless *allowed has one CPU), and when *allowed spans two or more
 * cores, workload and load must not be SMT siblings: each is an error naming the CPUs, with a
 * hint. Returns 0 with *out filled, or -1 with err. */
int ap_topology_place(const struct ap_topology *t, const struct ap_cpuset *allowed,
                      const struct ap_cpuset *want_workload, const struct ap_cpuset *want_load,
                      struct ap_placement *out, ap_error **err);

/* The topology and the placement as results.json's environment.topology records them (caller
 * owns; NULL when out of memory). */
cJSON *ap_topology_json(const struct ap_topology *t, const struct ap_placement *p);

#endif
