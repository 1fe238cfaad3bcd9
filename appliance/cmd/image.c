/* appliance image build|ls|inspect|unpack */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../core/log.h"
#include "../core/table.h"
#include "../image/build.h"
#include "../image/oci.h"
#include "cmd.h"

static void image_usage(FILE *out)
{
    fprintf(out,
            "Usage:\n"
            "  appliance image build [NAME...] [--out DIR] [--cache DIR] [--mirror URL[,URL]]\n"
            "                        [--rebuild] [--json]\n"
            "      Builds each named image (all of them without names) from\n"
            "      images/NAME/image.json and lock.json into the OCI layout DIR/NAME\n"
            "      (default build/images/NAME). Packages are fetched once into the cache and\n"
            "      used only when their sha256 matches the lock; --rebuild ignores cached\n"
            "      layers (downloads are still reused).\n"
            "  appliance image ls [--out DIR] [--json]\n"
            "      Lists the images defined under images/ and what is built of them.\n"
            "  appliance image inspect NAME [--out DIR] [--json]\n"
            "      Manifest digest, compressed bytes (sum of blobs), unpacked bytes, package\n"
            "      count and file count of a built image.\n"
            "  appliance image unpack NAME DEST [--out DIR]\n"
            "      Unpacks a built image's layers into the new directory DEST.\n");
}

enum { OPT_OUT = 256, OPT_CACHE, OPT_MIRROR, OPT_REBUILD, OPT_JSON };

static const struct option long_opts[] = {{"out", required_argument, NULL, OPT_OUT},
                                          {"cache", required_argument, NULL, OPT_CACHE},
                                          {"mirror", required_argument, NULL, OPT_MIRROR},
                                          {"rebuild", no_argument, NULL, OPT_REBUILD},
                                          {"json", no_argument, NULL, OPT_JSON},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};

struct image_opts {
    int json, rebuild;
};

/* Parses the options every image sub-verb shares; returns -1 after printing on misuse, 1
 * after --help. */
static int parse(struct ap_settings *s, struct image_opts *o, const char *verb, int argc,
                 char **argv)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_OUT:
            s->out_dir = optarg;
            break;
        case OPT_CACHE:
            s->cache_dir = optarg;
            break;
        case OPT_MIRROR:
            s->mirrors = optarg;
            break;
        case OPT_REBUILD:
            o->rebuild = 1;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case 'h':
            image_usage(stdout);
            return 1;
        default:
            ap_cmd_usage(verb, "unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    return 0;
}

static cJSON *info_json(const char *name, const char *layout, const struct ap_oci_info *i)
{
    cJSON *j = cJSON_CreateObject();
    char d[80];
    snprintf(d, sizeof(d), "sha256:%s", i->manifest_digest);
    cJSON_AddStringToObject(j, "name", name);
    cJSON_AddStringToObject(j, "layout", layout);
    cJSON_AddStringToObject(j, "manifest_digest", d);
    cJSON_AddNumberToObject(j, "compressed_bytes", (double)i->compressed_bytes);
    cJSON_AddNumberToObject(j, "unpacked_bytes", (double)i->unpacked_bytes);
    cJSON_AddNumberToObject(j, "packages", (double)i->packages);
    cJSON_AddNumberToObject(j, "files", (double)i->files);
    cJSON_AddNumberToObject(j, "layers", (double)i->n_layers);
    cJSON_AddStringToObject(j, "created", i->created);
    cJSON_AddStringToObject(j, "appliance_version", i->version);
    snprintf(d, sizeof(d), "sha256:%s", i->lock_sha256);
    cJSON_AddStringToObject(j, "lock_sha256", d);
    return j;
}

static int print_json(cJSON *j)
{
    cleanup_free char *s = cJSON_Print(j);
    cJSON_Delete(j);
    if (s == NULL)
        return AP_EXIT_FAIL;
    printf("%s\n", s);
    return AP_EXIT_OK;
}

static int cmd_build(struct ap_settings *s, int argc, char **argv)
{
    struct image_opts o = {0};
    int p = parse(s, &o, "image build", argc, argv);
    if (p != 0)
        return p > 0 ? AP_EXIT_OK : AP_EXIT_USAGE;
    ap_error *err = NULL;
    char **names = NULL;
    size_t n = 0;
    int own_names = 0;
    if (optind < argc) {
        names = argv + optind;
        n = (size_t)(argc - optind);
    } else {
        if (ap_fs_list_names(s->images_dir, "image.json", 0, &names, &n, &err) < 0)
            return ap_cmd_fail(&err);
        own_names = 1;
    }
    struct ap_fetch fetch;
    if (ap_fetch_init(&fetch, s->cache_dir, s->mirrors, &err) < 0) {
        if (own_names)
            ap_fs_names_free(names, n);
        return ap_cmd_fail(&err);
    }
    struct ap_build_opts bo = {.images_dir = s->images_dir,
                               .out_dir = s->out_dir,
                               .cache_dir = s->cache_dir,
                               .fetch = &fetch,
                               .no_build_cache = o.rebuild};
    cJSON *arr = cJSON_CreateArray();
    int rc = AP_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        struct ap_build_result r;
        if (ap_image_build(&bo, names[i], &r, &err) < 0) {
            rc = ap_cmd_fail(&err);
            break;
        }
        char h1[32], h2[32];
        if (o.json) {
            cJSON *j = cJSON_CreateObject();
            char d[80];
            snprintf(d, sizeof(d), "sha256:%s", r.manifest_digest);
            cJSON_AddStringToObject(j, "name", names[i]);
            cJSON_AddStringToObject(j, "manifest_digest", d);
            cJSON_AddNumberToObject(j, "layer_bytes", (double)r.compressed_bytes);
            cJSON_AddNumberToObject(j, "unpacked_bytes", (double)r.unpacked_bytes);
            cJSON_AddNumberToObject(j, "layers", (double)r.layers);
            cJSON_AddNumberToObject(j, "packages", (double)r.packages);
            cJSON_AddNumberToObject(j, "files", (double)r.files);
            cJSON_AddBoolToObject(j, "from_cache", r.from_cache);
            cJSON_AddNumberToObject(j, "seconds", r.seconds);
            cJSON_AddItemToArray(arr, j);
        } else {
            printf("%-18s sha256:%s  layers %s  unpacked %s  %zu packages  %.2f s%s\n", names[i],
                   r.manifest_digest, ap_fs_human_bytes(r.compressed_bytes, h1, sizeof(h1)),
                   ap_fs_human_bytes(r.unpacked_bytes, h2, sizeof(h2)), r.packages, r.seconds,
                   r.from_cache ? "  (cached package layer)" : "");
            fflush(stdout);
        }
    }
    if (rc == AP_EXIT_OK && o.json)
        print_json(arr);
    else
        cJSON_Delete(arr);
    ap_log_debug("fetched %llu bytes, %llu cache hits", (unsigned long long)fetch.fetched_bytes,
                 (unsigned long long)fetch.cached_hits);
    ap_fetch_done(&fetch);
    if (own_names)
        ap_fs_names_free(names, n);
    return rc;
}

static int cmd_ls(struct ap_settings *s, int argc, char **argv)
{
    struct image_opts o = {0};
    int p = parse(s, &o, "image ls", argc, argv);
    if (p != 0)
        return p > 0 ? AP_EXIT_OK : AP_EXIT_USAGE;
    if (optind < argc)
        return ap_cmd_usage("image ls", "unexpected argument '%s'", argv[optind]);
    ap_error *err = NULL;
    char **names = NULL;
    size_t n = 0;
    if (ap_fs_list_names(s->images_dir, "image.json", 0, &names, &n, &err) < 0)
        return ap_cmd_fail(&err);
    cJSON *arr = cJSON_CreateArray();
    /* Columns sized from their content: a long name pushes the others right on every line. */
    struct ap_table t;
    ap_table_init(&t, 6, 0x3cu, 0);
    t.header = 1;
    const char *head[] = {"NAME", "DIGEST", "COMPRESSED", "UNPACKED", "PACKAGES", "FILES"};
    int rc = o.json ? 0 : ap_table_add(&t, NULL, head, 6, NULL, &err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char layout[4096];
        if (ap_fs_path(layout, sizeof(layout), "%s/%s", s->out_dir, names[i]) < 0) {
            rc = ap_error_make(&err, ENAMETOOLONG, "the layout of image %s under %.64s...",
                               names[i], s->out_dir);
            break;
        }
        struct ap_oci_info info;
        ap_error *e = NULL;
        int built = ap_oci_read(layout, &info, &e) == 0;
        ap_error_release(&e);
        if (o.json) {
            cJSON *j = built ? info_json(names[i], layout, &info) : cJSON_CreateObject();
            if (!built) {
                cJSON_AddStringToObject(j, "name", names[i]);
                cJSON_AddNullToObject(j, "manifest_digest");
            }
            cJSON_AddBoolToObject(j, "built", built);
            cJSON_AddItemToArray(arr, j);
            continue;
        }
        if (!built) {
            const char *cells[] = {names[i], "(not built)"};
            rc = ap_table_add(&t, NULL, cells, 2, NULL, &err);
            continue;
        }
        char h1[32], h2[32], c1[64], c2[64], dig[20], np[24], nf[24];
        snprintf(dig, sizeof(dig), "sha256:%.12s", info.manifest_digest);
        snprintf(c1, sizeof(c1), "%s (%llu)", ap_fs_human_bytes(info.compressed_bytes, h1, 32),
                 (unsigned long long)info.compressed_bytes);
        snprintf(c2, sizeof(c2), "%s (%llu)", ap_fs_human_bytes(info.unpacked_bytes, h2, 32),
                 (unsigned long long)info.unpacked_bytes);
        snprintf(np, sizeof(np), "%llu", (unsigned long long)info.packages);
        snprintf(nf, sizeof(nf), "%llu", (unsigned long long)info.files);
        const char *cells[] = {names[i], dig, c1, c2, np, nf};
        rc = ap_table_add(&t, NULL, cells, 6, NULL, &err);
    }
    ap_fs_names_free(names, n);
    if (rc < 0) {
        ap_table_free(&t);
        cJSON_Delete(arr);
        return ap_cmd_fail(&err);
    }
    if (o.json)
        return print_json(arr);
    /* A listing: one image per line whatever the terminal's width, for grep and cut. */
    ap_table_print(&t, stdout, 0);
    ap_table_free(&t);
    cJSON_Delete(arr);
    return AP_EXIT_OK;
}

static int cmd_inspect(struct ap_settings *s, int argc, char **argv)
{
    struct image_opts o = {0};
    int p = parse(s, &o, "image inspect", argc, argv);
    if (p != 0)
        return p > 0 ? AP_EXIT_OK : AP_EXIT_USAGE;
    if (argc - optind != 1)
        return ap_cmd_usage("image inspect", "expected one image NAME");
    const char *name = argv[optind];
    char layout[4096];
    struct ap_oci_info info;
    ap_error *err = NULL;
    if (ap_fs_path(layout, sizeof(layout), "%s/%s", s->out_dir, name) < 0)
        return ap_cmd_usage("image inspect",
                            "the layout of image %s under %.64s... is "
                            "longer than %zu bytes",
                            name, s->out_dir, sizeof(layout) - 1);
    if (ap_oci_read(layout, &info, &err) < 0) {
        ap_error_wrap(&err, "image %s", name);
        return ap_cmd_fail(&err);
    }
    if (o.json)
        return print_json(info_json(name, layout, &info));
    char h[32];
    printf("name:             %s\n", name);
    printf("layout:           %s\n", layout);
    printf("manifest digest:  sha256:%s\n", info.manifest_digest);
    printf("compressed bytes: %s (%llu bytes: manifest + config + %zu layer%s)\n",
           ap_fs_human_bytes(info.compressed_bytes, h, sizeof(h)),
           (unsigned long long)info.compressed_bytes, info.n_layers, info.n_layers == 1 ? "" : "s");
    printf("unpacked bytes:   %s (%llu bytes in regular files)\n",
           ap_fs_human_bytes(info.unpacked_bytes, h, sizeof(h)),
           (unsigned long long)info.unpacked_bytes);
    printf("packages:         %llu\n", (unsigned long long)info.packages);
    printf("files:            %llu\n", (unsigned long long)info.files);
    printf("created:          %s\n", info.created);
    printf("lock:             sha256:%s\n", info.lock_sha256);
    printf("built by:         appliance %s\n", info.version);
    return AP_EXIT_OK;
}

static int cmd_unpack(struct ap_settings *s, int argc, char **argv)
{
    struct image_opts o = {0};
    int p = parse(s, &o, "image unpack", argc, argv);
    if (p != 0)
        return p > 0 ? AP_EXIT_OK : AP_EXIT_USAGE;
    if (argc - optind != 2)
        return ap_cmd_usage("image unpack", "expected NAME and DEST");
    const char *name = argv[optind], *dest = argv[optind + 1];
    struct stat st;
    if (lstat(dest, &st) == 0) {
        DIR *d = S_ISDIR(st.st_mode) ? opendir(dest) : NULL;
        int empty = d != NULL;
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                empty = 0;
        if (d != NULL)
            closedir(d);
        if (!empty)
            return ap_cmd_usage("image unpack", "%s exists and is not an empty directory", dest);
    }
    char layout[4096];
    if (ap_fs_path(layout, sizeof(layout), "%s/%s", s->out_dir, name) < 0)
        return ap_cmd_usage("image unpack",
                            "the layout of image %s under %.64s... is "
                            "longer than %zu bytes",
                            name, s->out_dir, sizeof(layout) - 1);
    ap_error *err = NULL;
    if (ap_oci_unpack(layout, dest, &err) < 0) {
        ap_error_wrap(&err, "unpacking image %s", name);
        return ap_cmd_fail(&err);
    }
    return AP_EXIT_OK;
}

int ap_cmd_image(struct ap_settings *s, int argc, char **argv)
{
    if (argc < 2) {
        image_usage(stderr);
        return AP_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        image_usage(stdout);
        return AP_EXIT_OK;
    }
    if (strcmp(sub, "build") == 0)
        return cmd_build(s, argc - 1, argv + 1);
    if (strcmp(sub, "ls") == 0)
        return cmd_ls(s, argc - 1, argv + 1);
    if (strcmp(sub, "inspect") == 0)
        return cmd_inspect(s, argc - 1, argv + 1);
    if (strcmp(sub, "unpack") == 0)
        return cmd_unpack(s, argc - 1, argv + 1);
    return ap_cmd_usage("image", "unknown sub-verb '%s'", sub);
}
