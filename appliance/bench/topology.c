#include "topology.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/fs.h"

#define PATH_LEN 4096
/* How many cores a hint lists before "and N more". */
#define HINT_CORES 16

/* ---- reading sysfs ---------------------------------------------------------------------- */

static int read_small(const char *path, char *buf, size_t len, ap_error **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    return ap_fs_read_to_end(fd, path, buf, len, 1, err) < 0 ? -1 : 0;
}

/* A file's text as an error quotes it: at most 40 bytes, a final newline dropped, other
 * unprintable bytes as '?'. */
static void quote(const char *text, char *buf, size_t len)
{
    size_t i = 0;
    for (; text[i] != '\0' && i < 40 && i + 1 < len; i++)
        buf[i] = isprint((unsigned char)text[i]) ? text[i] : '?';
    if (i > 0 && text[i] == '\0' && text[i - 1] == '\n')
        i--;
    buf[i] = '\0';
}

/* A file holding one decimal integer (a minus sign allowed: core_id may be -1). */
static int read_long(const char *path, long *out, ap_error **err)
{
    char buf[64], q[48];
    if (read_small(path, buf, sizeof(buf), err) < 0)
        return -1;
    char *end = buf;
    errno = 0;
    long v = 0;
    if (buf[0] == '-' || isdigit((unsigned char)buf[0]))
        v = strtol(buf, &end, 10);
    if (end == buf || errno != 0 || !(*end == '\0' || (*end == '\n' && end[1] == '\0'))) {
        quote(buf, q, sizeof(q));
        return ap_error_make(err, 0, "%s holds \"%s\", not a number", path, q);
    }
    *out = v;
    return 0;
}

/* A CPU list file; an empty one (a memory-only node's cpulist) is the empty set. */
static int read_list(const char *path, struct ap_cpuset *out, ap_error **err)
{
    char buf[AP_CPUSET_STRLEN];
    if (read_small(path, buf, sizeof(buf), err) < 0)
        return -1;
    if (buf[0] == '\0' || strcmp(buf, "\n") == 0) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    if (ap_cpuset_parse(buf, out, err) < 0)
        return ap_error_wrap(err, "%s", path);
    return 0;
}

/* A name "node<M>", as in cpuN/ and node/: 1 with *m, else 0. */
static int node_name(const char *name, long *m)
{
    const char *p = name;
    if (strncmp(p, "node", 4) != 0)
        return 0;
    p += 4;
    return ap_cpuset_read_number(&p, m) == 0 && *p == '\0';
}

static int too_many_nodes(const char *where, ap_error **err)
{
    return ap_error_make(err, 0, "%s: a NUMA node number beyond the %d supported", where,
                         AP_CPUSET_MAX - 1);
}

/* The next entry "nodeM" of the directory D (listing WHERE): 1 with *m = M (and *name the
 * entry's name when name is not NULL), 0 at the end, -1 on an error. */
static int next_node(DIR *d, const char *where, long *m, const char **name, ap_error **err)
{
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL && errno != 0)
            return ap_error_make(err, errno, "listing %s", where);
        if (de == NULL)
            return 0;
        if (!node_name(de->d_name, m))
            continue;
        if (*m >= AP_CPUSET_MAX)
            return too_many_nodes(where, err);
        if (name != NULL)
            *name = de->d_name;
        return 1;
    }
}

/* The node of a CPU from its cpuN/nodeM entry: *node = M, or -1 when it has none. */
static int node_from_link(const char *cpudir, int *node, ap_error **err)
{
    *node = -1;
    cleanup_dir DIR *d = opendir(cpudir);
    if (d == NULL)
        return ap_error_make(err, errno, "listing %s", cpudir);
    long m;
    int more;
    while ((more = next_node(d, cpudir, &m, NULL, err)) > 0) {
        if (*node >= 0)
            return ap_error_make(err, 0, "%s names two NUMA nodes, node%d and node%ld", cpudir,
                                 *node, m);
        *node = (int)m;
    }
    return more;
}

/* Fills the nodes the cpuN/nodeM entries left unknown from <root>/devices/system/node/
 * nodeM/cpulist; a CPU a cpulist puts on another node than it was found on is an error.
 * No node directory at all (a kernel without NUMA) leaves every node as it is. */
static int nodes_from_lists(const char *root, struct ap_topology *t, ap_error **err)
{
    char dir[PATH_LEN], path[PATH_LEN];
    if (ap_fs_path(dir, sizeof(dir), "%s/devices/system/node", root) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s/devices/system/node", root);
    cleanup_dir DIR *d = opendir(dir);
    if (d == NULL && errno == ENOENT)
        return 0;
    if (d == NULL)
        return ap_error_make(err, errno, "listing %s", dir);
    long m;
    int more;
    const char *name;
    while ((more = next_node(d, dir, &m, &name, err)) > 0) {
        struct ap_cpuset list;
        if (ap_fs_path(path, sizeof(path), "%s/%s/cpulist", dir, name) < 0)
            return ap_error_make(err, ENAMETOOLONG, "%s/%s/cpulist", dir, name);
        if (read_list(path, &list, err) < 0)
            return -1;
        for (int c = 0; c < AP_CPUSET_MAX; c++) {
            if (!ap_cpuset_has(&list, c) || !ap_cpuset_has(&t->cpus, c))
                continue;
            if (t->cpu[c].node >= 0 && t->cpu[c].node != m)
                return ap_error_make(err, 0, "%s lists cpu%d, which is on node%d", path, c,
                                     t->cpu[c].node);
            t->cpu[c].node = (int)m;
        }
    }
    return more;
}

static int read_cpu(const char *root, int c, struct ap_topology_cpu *out, ap_error **err)
{
    char dir[PATH_LEN], path[PATH_LEN];
    if (ap_fs_path(dir, sizeof(dir), "%s/devices/system/cpu/cpu%d", root, c) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s/devices/system/cpu/cpu%d", root, c);
#define FILE_OF(name)                                                                              \
    (ap_fs_path(path, sizeof(path), "%s/topology/" name, dir) < 0                                  \
         ? ap_error_make(err, ENAMETOOLONG, "%s/topology/" name, dir)                              \
         : 0)
    if (FILE_OF("thread_siblings_list") < 0 || read_list(path, &out->siblings, err) < 0 ||
        FILE_OF("core_id") < 0 || read_long(path, &out->core_id, err) < 0 ||
        FILE_OF("physical_package_id") < 0 || read_long(path, &out->package_id, err) < 0)
        return -1;
#undef FILE_OF
    if (!ap_cpuset_has(&out->siblings, c))
        return ap_error_make(err, 0, "%s/topology/thread_siblings_list does not list cpu%d itself",
                             dir, c);
    return node_from_link(dir, &out->node, err);
}

/* Two CPUs are siblings both ways with the same list, or not at all. */
static int check_siblings(const char *root, const struct ap_topology *t, ap_error **err)
{
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        if (!ap_cpuset_has(&t->cpus, c))
            continue;
        for (int s = 0; s < AP_CPUSET_MAX; s++) {
            if (s == c || !ap_cpuset_has(&t->cpus, s) || !ap_cpuset_has(&t->cpu[c].siblings, s))
                continue;
            if (memcmp(&t->cpu[c].siblings, &t->cpu[s].siblings, sizeof(struct ap_cpuset)) == 0)
                continue;
            char a[AP_CPUSET_STRLEN], b[AP_CPUSET_STRLEN];
            ap_cpuset_format(&t->cpu[c].siblings, a, sizeof(a), NULL);
            ap_cpuset_format(&t->cpu[s].siblings, b, sizeof(b), NULL);
            return ap_error_make(err, 0,
                                 "%s/devices/system/cpu: cpu%d's thread siblings are %.100s, "
                                 "but cpu%d's are %.100s",
                                 root, c, a, s, b);
        }
    }
    return 0;
}

int ap_topology_read(const char *root, const struct ap_cpuset *cpus, struct ap_topology *out,
                     ap_error **err)
{
    cleanup_free struct ap_topology *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ap_error_make(err, ENOMEM, "reading the CPU topology");
    t->cpus = *cpus;
    if (ap_cpuset_count(cpus) == 0)
        return ap_error_make(err, 0, "reading the CPU topology: no CPU to describe");
    for (int c = 0; c < AP_CPUSET_MAX; c++)
        if (ap_cpuset_has(cpus, c) && read_cpu(root, c, &t->cpu[c], err) < 0)
            return -1;
    if (nodes_from_lists(root, t, err) < 0 || check_siblings(root, t, err) < 0)
        return -1;
    t->known = 1;
    memcpy(out, t, sizeof(*t));
    return 0;
}

void ap_topology_assume_flat(const struct ap_cpuset *cpus, const char *why, struct ap_topology *out)
{
    memset(out, 0, sizeof(*out));
    out->cpus = *cpus;
    snprintf(out->why_unknown, sizeof(out->why_unknown), "%s", why ? why : "not read");
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        out->cpu[c].core_id = out->cpu[c].package_id = -1;
        out->cpu[c].node = -1;
        ap_cpuset_add(&out->cpu[c].siblings, c);
    }
}

/* ---- placement -------------------------------------------------------------------------- */

/* The CPUs of *in that are SMT siblings of c (c among them when in *in). */
static void core_in(const struct ap_topology *t, int c, const struct ap_cpuset *in,
                    struct ap_cpuset *out)
{
    for (size_t i = 0; i < AP_ARRAY_SIZE(out->bits); i++)
        out->bits[i] = t->cpu[c].siblings.bits[i] & in->bits[i];
}

static int lowest(const struct ap_cpuset *set)
{
    for (int c = 0; c < AP_CPUSET_MAX; c++)
        if (ap_cpuset_has(set, c))
            return c;
    return -1;
}

static void add_all(struct ap_cpuset *to, const struct ap_cpuset *from)
{
    for (size_t i = 0; i < AP_ARRAY_SIZE(to->bits); i++)
        to->bits[i] |= from->bits[i];
}

/* The cores of *in, each as its lowest CPU in *in, ascending. */
struct cores {
    int n;
    int first[AP_CPUSET_MAX];
};

static void list_cores(const struct ap_topology *t, const struct ap_cpuset *in, struct cores *out)
{
    out->n = 0;
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        struct ap_cpuset core;
        if (!ap_cpuset_has(in, c))
            continue;
        core_in(t, c, in, &core);
        if (lowest(&core) == c)
            out->first[out->n++] = c;
    }
}

/* The default split of the cores cs of *allowed (see ap_topology_place). */
static void default_split(const struct ap_topology *t, const struct ap_cpuset *allowed,
                          const struct cores *cs, struct ap_cpuset *wl, struct ap_cpuset *load)
{
    memset(wl, 0, sizeof(*wl));
    memset(load, 0, sizeof(*load));
    int best = -2, best_n = 0;
    for (int i = 0; i < cs->n; i++) {
        int node = t->cpu[cs->first[i]].node, n = 0;
        for (int j = 0; j < cs->n; j++)
            n += t->cpu[cs->first[j]].node == node;
        if (n > best_n || (n == best_n && node < best)) {
            best = node;
            best_n = n;
        }
    }
    /* One node with room for both keeps a request and its answer off the interconnect and
     * each side's memory local; else every core, ordered by node. */
    int sel[AP_CPUSET_MAX], ns = 0;
    for (int i = 0; i < cs->n; i++)
        if (best_n < 2 || t->cpu[cs->first[i]].node == best)
            sel[ns++] = cs->first[i];
    for (int i = 1; i < ns; i++)
        for (int j = i; j > 0 && t->cpu[sel[j - 1]].node > t->cpu[sel[j]].node; j--) {
            int x = sel[j];
            sel[j] = sel[j - 1];
            sel[j - 1] = x;
        }
    if (ns >= 2) {
        for (int i = 0; i < ns; i++) {
            struct ap_cpuset core;
            core_in(t, sel[i], allowed, &core);
            add_all(i < ns / 2 ? load : wl, &core);
        }
        return;
    }
    /* One core: its threads split as CPUs were before SMT was looked at. */
    int n = ap_cpuset_count(allowed), seen = 0;
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        if (!ap_cpuset_has(allowed, c))
            continue;
        if (n == 1 || seen >= n / 2)
            ap_cpuset_add(wl, c);
        if (n == 1 || seen < n / 2)
            ap_cpuset_add(load, c);
        seen++;
    }
}

/* "0,2 1,3 ..." : the cores of cs, for a hint. */
static void format_cores(const struct ap_topology *t, const struct ap_cpuset *allowed,
                         const struct cores *cs, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < cs->n && i < HINT_CORES; i++) {
        struct ap_cpuset core;
        char one[AP_CPUSET_STRLEN];
        core_in(t, cs->first[i], allowed, &core);
        ap_cpuset_format(&core, one, sizeof(one), NULL);
        int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", one);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    if (cs->n > HINT_CORES)
        snprintf(buf + used, len - used, " and %d more", cs->n - HINT_CORES);
}

/* The sets given or defaulted are usable: within *allowed, not empty, apart. On success
 * *shared_w / *shared_l name a workload and a load CPU of one core (-1: none). */
static int check_sets(const struct ap_topology *t, const struct ap_cpuset *allowed,
                      const struct ap_placement *p, int *shared_w, int *shared_l, ap_error **err)
{
    char wls[AP_CPUSET_STRLEN], lds[AP_CPUSET_STRLEN], all[AP_CPUSET_STRLEN];
    ap_cpuset_format(&p->workload, wls, sizeof(wls), NULL);
    ap_cpuset_format(&p->load, lds, sizeof(lds), NULL);
    ap_cpuset_format(allowed, all, sizeof(all), NULL);
    int n = ap_cpuset_count(allowed);
    *shared_w = *shared_l = -1;
    if (ap_cpuset_count(&p->workload) == 0 || ap_cpuset_count(&p->load) == 0)
        return ap_error_make(err, EINVAL, "empty CPU set (workload %s, load %s)", wls, lds);
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        int in_wl = ap_cpuset_has(&p->workload, c), in_load = ap_cpuset_has(&p->load, c);
        if ((in_wl || in_load) && !ap_cpuset_has(allowed, c)) {
            ap_error_make(err, 0, "CPU %d is not one this run may use (online and allowed: %s)", c,
                          all);
            return ap_error_hint(err, "choose --workload-cpus and --load-cpus among those");
        }
        /* The load generator on a CPU of the server's would measure itself; only a machine
         * with one CPU has no choice (and its results say so). */
        if (n > 1 && in_wl && in_load) {
            ap_error_make(err, 0, "CPU %d is in both the workload's CPUs (%s) and the load's (%s)",
                          c, wls, lds);
            return ap_error_hint(err, "give --workload-cpus and --load-cpus disjoint sets");
        }
        if (!in_wl || *shared_w >= 0)
            continue;
        struct ap_cpuset core;
        core_in(t, c, &p->load, &core);
        if (ap_cpuset_count(&core) > 0) {
            *shared_w = c;
            *shared_l = lowest(&core);
        }
    }
    return 0;
}

static int node_of_sets(const struct ap_topology *t, const struct ap_placement *p)
{
    int node = -2;
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        if (!ap_cpuset_has(&p->workload, c) && !ap_cpuset_has(&p->load, c))
            continue;
        if (t->cpu[c].node < 0)
            return -1;
        if (node == -2)
            node = t->cpu[c].node;
        else if (node != t->cpu[c].node)
            return 0;
    }
    return 1;
}

int ap_topology_place(const struct ap_topology *t, const struct ap_cpuset *allowed,
                      const struct ap_cpuset *want_workload, const struct ap_cpuset *want_load,
                      struct ap_placement *out, ap_error **err)
{
    struct ap_placement p;
    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i < AP_ARRAY_SIZE(allowed->bits); i++)
        if ((allowed->bits[i] & ~t->cpus.bits[i]) != 0)
            return ap_error_make(err, 0, "placing the run: the topology read lacks some CPUs");
    if (ap_cpuset_count(allowed) == 0)
        return ap_error_make(err, 0, "placing the run: no CPU to run on");
    struct cores *cs = calloc(1, sizeof(*cs));
    if (cs == NULL)
        return ap_error_make(err, ENOMEM, "placing the run");
    list_cores(t, allowed, cs);
    struct ap_cpuset dflt_wl, dflt_load;
    default_split(t, allowed, cs, &dflt_wl, &dflt_load);
    p.workload = want_workload ? *want_workload : dflt_wl;
    p.load = want_load ? *want_load : dflt_load;
    int w = -1, l = -1;
    if (check_sets(t, allowed, &p, &w, &l, err) < 0) {
        free(cs);
        return -1;
    }
    char wls[AP_CPUSET_STRLEN], lds[AP_CPUSET_STRLEN], all[AP_CPUSET_STRLEN];
    char sib[AP_CPUSET_STRLEN];
    ap_cpuset_format(&p.workload, wls, sizeof(wls), NULL);
    ap_cpuset_format(&p.load, lds, sizeof(lds), NULL);
    ap_cpuset_format(allowed, all, sizeof(all), NULL);
    int n = ap_cpuset_count(allowed);
    if (w >= 0 && cs->n >= 2) {
        char cores[1024], dw[AP_CPUSET_STRLEN], dl[AP_CPUSET_STRLEN];
        ap_cpuset_format(&t->cpu[w].siblings, sib, sizeof(sib), NULL);
        format_cores(t, allowed, cs, cores, sizeof(cores));
        ap_cpuset_format(&dflt_wl, dw, sizeof(dw), NULL);
        ap_cpuset_format(&dflt_load, dl, sizeof(dl), NULL);
        ap_error_make(err, 0,
                      "CPU %d (workload) and CPU %d (load) are SMT siblings of one physical core "
                      "(thread siblings %.200s): the load generator would slow the server it "
                      "measures",
                      w, l, sib);
        ap_error_hint(err,
                      "choose CPUs of different cores (the cores here: %.500s), or leave out "
                      "--workload-cpus and --load-cpus: the default keeps them apart (workload "
                      "%.100s, load %.100s)",
                      cores, dw, dl);
        free(cs);
        return -1;
    }
    if (n == 1) {
        p.shared_core = 1;
        snprintf(p.warning, sizeof(p.warning),
                 "the workload and the load generator and orchestrator share CPU %.100s, the only "
                 "one this run may use: the load's work slows the server's",
                 all);
    } else if (w >= 0) {
        struct ap_cpuset core;
        p.shared_core = 1;
        core_in(t, w, allowed, &core);
        ap_cpuset_format(&core, sib, sizeof(sib), NULL);
        snprintf(p.warning, sizeof(p.warning),
                 "the workload (CPUs %.100s) and the load generator and orchestrator (CPUs "
                 "%.100s) are SMT siblings of one physical core (%.100s), the only core this "
                 "run may use: the load's work slows the server's",
                 wls, lds, sib);
    } else if (!t->known) {
        p.shared_core = -1;
        snprintf(p.warning, sizeof(p.warning),
                 "the CPU topology is unknown (%.300s): the workload (CPUs %.100s) and the load "
                 "generator (CPUs %.100s) may be SMT siblings of one physical core",
                 t->why_unknown, wls, lds);
    }
    if (cs->n == 1 && n >= 2) {
        p.threads = *allowed;
        p.threads_siblings = 1;
        snprintf(p.threads_warning, sizeof(p.threads_warning),
                 "the threads suite's CPUs (%.100s) are SMT siblings of one physical core, the "
                 "only core this run may use: its workers share that core",
                 all);
    } else {
        for (int i = 0; i < cs->n; i++)
            ap_cpuset_add(&p.threads, cs->first[i]);
        if (!t->known && n >= 2) {
            p.threads_siblings = -1;
            snprintf(p.threads_warning, sizeof(p.threads_warning),
                     "the CPU topology is unknown (%.300s): the threads suite's CPUs (%.100s) may "
                     "include SMT siblings of one physical core",
                     t->why_unknown, all);
        }
    }
    free(cs);
    p.same_node = node_of_sets(t, &p);
    *out = p;
    return 0;
}

/* ---- the record ------------------------------------------------------------------------- */

static void add_long_or_null(cJSON *o, const char *key, long v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(o, key, (double)v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_bool_or_null(cJSON *o, const char *key, int v)
{
    if (v >= 0)
        cJSON_AddBoolToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *ap_topology_json(const struct ap_topology *t, const struct ap_placement *p)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "source", t->known ? "sysfs" : "unknown");
    if (!t->known)
        cJSON_AddStringToObject(o, "error", t->why_unknown);
    struct cores *cs = calloc(1, sizeof(*cs));
    if (cs != NULL) {
        list_cores(t, &t->cpus, cs);
        cJSON_AddNumberToObject(o, "cores", cs->n);
        free(cs);
    }
    int smt = 0, nodes = 0, node_unknown = 0;
    struct ap_cpuset seen = {{0}};
    cJSON *cpus = cJSON_AddArrayToObject(o, "cpus");
    for (int c = 0; t->known && c < AP_CPUSET_MAX; c++) {
        if (!ap_cpuset_has(&t->cpus, c))
            continue;
        const struct ap_topology_cpu *x = &t->cpu[c];
        char sib[AP_CPUSET_STRLEN];
        ap_cpuset_format(&x->siblings, sib, sizeof(sib), NULL);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "cpu", c);
        cJSON_AddNumberToObject(j, "core_id", (double)x->core_id);
        cJSON_AddNumberToObject(j, "package_id", (double)x->package_id);
        add_long_or_null(j, "node", x->node);
        cJSON_AddStringToObject(j, "thread_siblings", sib);
        cJSON_AddItemToArray(cpus, j);
        smt |= ap_cpuset_count(&x->siblings) > 1;
        node_unknown |= x->node < 0;
        if (x->node >= 0 && !ap_cpuset_has(&seen, x->node)) {
            ap_cpuset_add(&seen, x->node);
            nodes++;
        }
    }
    if (t->known)
        cJSON_AddBoolToObject(o, "smt", smt);
    else
        cJSON_AddNullToObject(o, "smt");
    add_long_or_null(o, "nodes", t->known && !node_unknown ? nodes : -1);
    cJSON *pl = cJSON_AddObjectToObject(o, "placement");
    add_bool_or_null(pl, "workload_load_share_core", p->shared_core);
    add_bool_or_null(pl, "workload_load_same_node", p->same_node);
    add_bool_or_null(pl, "threads_suite_has_siblings", p->threads_siblings);
    return o;
}
