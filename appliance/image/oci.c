#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../sandbox/sandbox.h"
#include "unpack.h"

#ifndef AP_VERSION
#define AP_VERSION "0"
#endif

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define BLOB_MAX (64u << 20)

static void iso8601(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cJSON *string_array(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *descriptor(const char *media, const char *hex, uint64_t size)
{
    char digest[80];
    snprintf(digest, sizeof(digest), "sha256:%s", hex);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "mediaType", media);
    cJSON_AddStringToObject(d, "digest", digest);
    cJSON_AddNumberToObject(d, "size", (double)size);
    return d;
}

/* Serialises j compactly into blobs/sha256/ under dir; returns digest and size. */
static int put_blob(const char *dir, const cJSON *j, char *hex, uint64_t *size, ap_error **err)
{
    cleanup_free char *s = ap_json_compact(j);
    if (s == NULL)
        return ap_error_make(err, ENOMEM, "serialising a blob");
    size_t len = strlen(s);
    ap_sha256_hex(s, len, hex);
    *size = len;
    char path[4096];
    if (ap_fs_path(path, sizeof(path), "%s/blobs/sha256/%s", dir, hex) < 0)
        return ap_error_make(err, ENAMETOOLONG, "blob %s in layout %.64s...", hex, dir);
    return ap_fs_write_atomic(path, s, len, 0644, err);
}

static char *u64s(uint64_t v)
{
    char *s = NULL;
    if (asprintf(&s, "%llu", (unsigned long long)v) < 0)
        return NULL;
    return s;
}

static int build_layout(const char *tmp, const struct ap_oci_spec *spec, char *mdigest,
                        ap_error **err)
{
    const struct ap_recipe *r = spec->recipe;
    char created[32], path[4096], diff[80];
    iso8601(r->source_date_epoch, created, sizeof(created));
    if (ap_fs_path(path, sizeof(path), "%s/blobs/sha256", tmp) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the blobs of layout %.64s...", tmp);
    if (ap_fs_mkdir_p(path, 0755, err) < 0)
        return -1;
    uint64_t files = 0, bytes = 0;
    for (size_t i = 0; i < spec->n_layers; i++) {
        const struct ap_oci_layer *l = &spec->layers[i];
        if (ap_fs_path(path, sizeof(path), "%s/blobs/sha256/%s", tmp, l->stats->digest) < 0)
            return ap_error_make(err, ENAMETOOLONG, "layer %s in layout %.64s...", l->stats->digest,
                                 tmp);
        if (ap_fs_link_or_copy(l->path, path, err) < 0)
            return -1;
        files += l->stats->files;
        bytes += l->stats->unpacked_bytes;
    }

    /* The image configuration. */
    cleanup_cjson cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "created", created);
    cJSON_AddStringToObject(cfg, "architecture", "amd64");
    cJSON_AddStringToObject(cfg, "os", "linux");
    cJSON *c = cJSON_AddObjectToObject(cfg, "config");
    if (r->n_env > 0)
        cJSON_AddItemToObject(c, "Env", string_array(r->env, r->n_env));
    if (r->n_entrypoint > 0)
        cJSON_AddItemToObject(c, "Entrypoint", string_array(r->entrypoint, r->n_entrypoint));
    if (r->n_cmd > 0)
        cJSON_AddItemToObject(c, "Cmd", string_array(r->cmd, r->n_cmd));
    cJSON_AddStringToObject(c, "WorkingDir", r->workdir);
    cJSON *rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
    cJSON_AddStringToObject(rootfs, "type", "layers");
    cJSON *diffs = cJSON_AddArrayToObject(rootfs, "diff_ids");
    cJSON *hist = cJSON_AddArrayToObject(cfg, "history");
    for (size_t i = 0; i < spec->n_layers; i++) {
        snprintf(diff, sizeof(diff), "sha256:%s", spec->layers[i].stats->diff_id);
        cJSON_AddItemToArray(diffs, cJSON_CreateString(diff));
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "created", created);
        cJSON_AddStringToObject(h, "created_by", spec->layers[i].created_by);
        cJSON_AddItemToArray(hist, h);
    }
    char cfg_hex[AP_SHA256_HEX_LEN + 1];
    uint64_t cfg_size;
    if (put_blob(tmp, cfg, cfg_hex, &cfg_size, err) < 0)
        return -1;

    /* The manifest, with what inspect reports recorded as annotations. */
    cleanup_cjson cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "schemaVersion", 2);
    cJSON_AddStringToObject(m, "mediaType", MT_MANIFEST);
    cJSON_AddItemToObject(m, "config", descriptor(MT_CONFIG, cfg_hex, cfg_size));
    cJSON *layers = cJSON_AddArrayToObject(m, "layers");
    for (size_t i = 0; i < spec->n_layers; i++)
        cJSON_AddItemToArray(layers, descriptor(MT_LAYER_GZIP, spec->layers[i].stats->digest,
                                                spec->layers[i].stats->compressed_size));
    cJSON *ann = cJSON_AddObjectToObject(m, "annotations");
    cleanup_free char *files_s = u64s(files);
    cleanup_free char *bytes_s = u64s(bytes);
    cleanup_free char *pkgs = u64s(spec->packages);
    cJSON_AddStringToObject(ann, "org.opencontainers.image.created", created);
    cJSON_AddStringToObject(ann, "org.opencontainers.image.title", r->name);
    cJSON_AddStringToObject(ann, "org.opencontainers.image.description", r->description);
    cJSON_AddStringToObject(ann, "appliance.version", AP_VERSION);
    cJSON_AddStringToObject(ann, "appliance.lock.sha256", spec->lock_sha256);
    cJSON_AddStringToObject(ann, "appliance.recipe.sha256", spec->recipe_sha256);
    cJSON_AddStringToObject(ann, "appliance.build.key", spec->build_key);
    cJSON_AddStringToObject(ann, "appliance.packages", pkgs ? pkgs : "0");
    cJSON_AddStringToObject(ann, "appliance.files", files_s ? files_s : "0");
    cJSON_AddStringToObject(ann, "appliance.unpacked_bytes", bytes_s ? bytes_s : "0");
    const cJSON *extra;
    cJSON_ArrayForEach(extra, spec->annotations)
    {
        if (cJSON_IsString(extra))
            cJSON_AddStringToObject(ann, extra->string, extra->valuestring);
    }
    uint64_t m_size;
    if (put_blob(tmp, m, mdigest, &m_size, err) < 0)
        return -1;

    cleanup_cjson cJSON *idx = cJSON_CreateObject();
    cJSON_AddNumberToObject(idx, "schemaVersion", 2);
    cJSON_AddStringToObject(idx, "mediaType", MT_INDEX);
    cJSON *ms = cJSON_AddArrayToObject(idx, "manifests");
    cJSON *d = descriptor(MT_MANIFEST, mdigest, m_size);
    cJSON *dann = cJSON_AddObjectToObject(d, "annotations");
    cJSON_AddStringToObject(dann, "org.opencontainers.image.ref.name", "latest");
    cJSON_AddItemToArray(ms, d);
    cleanup_free char *idx_s = ap_json_compact(idx);
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (ap_fs_path(path, sizeof(path), "%s/index.json", tmp) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the index of layout %.64s...", tmp);
    if (idx_s == NULL || ap_fs_write_atomic(path, idx_s, strlen(idx_s), 0644, err) < 0)
        return idx_s == NULL ? ap_error_make(err, ENOMEM, "index.json") : -1;
    if (ap_fs_path(path, sizeof(path), "%s/oci-layout", tmp) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the oci-layout file of layout %.64s...", tmp);
    return ap_fs_write_atomic(path, layout, sizeof(layout) - 1, 0644, err);
}

int ap_oci_write_layout(const char *dir, const struct ap_oci_spec *spec, char *manifest_digest,
                        ap_error **err)
{
    char parent[4096];
    if (ap_fs_path(parent, sizeof(parent), "%s", dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the layout of %s at %.64s...", spec->recipe->name,
                             dir);
    char *slash = strrchr(parent, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        strcpy(parent, ".");
    if (ap_fs_mkdir_p(parent, 0755, err) < 0)
        return -1;
    cleanup_free char *tmp = NULL;
    if (ap_fs_mkdtemp_in(parent, "layout", &tmp, err) < 0)
        return -1;
    if (chmod(tmp, 0755) < 0 || build_layout(tmp, spec, manifest_digest, err) < 0) {
        ap_error *ignored = NULL;
        ap_fs_remove_tree(tmp, &ignored);
        ap_error_release(&ignored);
        return ap_error_wrap(err, "writing the layout of %s", spec->recipe->name);
    }
    /* Swap in one step; the old layout (if any) ends up under the temporary name. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) < 0) {
        if (errno != ENOENT || rename(tmp, dir) < 0) {
            int e = errno;
            ap_error *ignored = NULL;
            ap_fs_remove_tree(tmp, &ignored);
            ap_error_release(&ignored);
            return ap_error_make(err, e, "putting the layout in place at %s", dir);
        }
        return 0;
    }
    return ap_fs_remove_tree(tmp, err);
}

/* Reads and checks a JSON blob of the layout by digest ("sha256:<hex>"). */
static int read_blob_json(const char *dir, const char *digest, uint64_t size, cJSON **out,
                          char *hex_out, ap_error **err)
{
    if (strncmp(digest, "sha256:", 7) != 0 || !ap_sha256_hex_valid(digest + 7))
        return ap_error_make(err, 0, "%s: unsupported digest \"%s\"", dir, digest);
    char path[4096];
    if (ap_fs_path(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7) < 0)
        return ap_error_make(err, ENAMETOOLONG, "blob %s in layout %.64s...", digest, dir);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    if (ap_fs_read_file(AT_FDCWD, path, BLOB_MAX, &buf, &len, err) < 0)
        return -1;
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(buf, len, hex);
    if (strcmp(hex, digest + 7) != 0 || len != size)
        return ap_error_make(err, 0, "%s: blob %s is corrupt (sha256 %s, %zu bytes)", dir, digest,
                             hex, len);
    if (hex_out != NULL)
        strcpy(hex_out, hex);
    return ap_json_parse(buf, len, path, out, err);
}

static int get_descriptor(const cJSON *d, const char *what, const char **digest, uint64_t *size,
                          ap_error **err)
{
    int64_t sz = 0;
    if (ap_json_get_string(d, "digest", 1, what, digest, err) < 0 ||
        ap_json_get_int(d, "size", 1, 0, INT64_C(1) << 40, what, &sz, err) < 0)
        return -1;
    *size = (uint64_t)sz;
    return 0;
}

static void copy_annotation(const cJSON *ann, const char *key, char *dst, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, key);
    if (cJSON_IsString(v))
        snprintf(dst, len, "%s", v->valuestring);
}

static uint64_t u64_annotation(const cJSON *ann, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, key);
    return cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 10) : 0;
}

/* Reads the layout's index, its single manifest and that manifest's config, each blob checked
 * against its digest and size. The caller owns *manifest and *config. */
static int load_image(const char *dir, cJSON **manifest, cJSON **config, char *mdigest,
                      uint64_t *msize, uint64_t *csize, ap_error **err)
{
    char path[4096];
    if (ap_fs_path(path, sizeof(path), "%s/index.json", dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the index of layout %.64s...", dir);
    cleanup_cjson cJSON *idx = NULL;
    if (ap_json_read_file(path, BLOB_MAX, &idx, err) < 0)
        return ap_error_hint(err, "build it with `appliance image build NAME`");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(idx, "manifests");
    if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) != 1)
        return ap_error_make(err, 0, "%s: expected exactly one manifest", path);
    const char *mdig, *cdig;
    if (get_descriptor(cJSON_GetArrayItem(ms, 0), path, &mdig, msize, err) < 0)
        return -1;
    cleanup_cjson cJSON *m = NULL;
    if (read_blob_json(dir, mdig, *msize, &m, mdigest, err) < 0)
        return -1;
    if (get_descriptor(cJSON_GetObjectItemCaseSensitive(m, "config"), "manifest config", &cdig,
                       csize, err) < 0)
        return -1;
    if (read_blob_json(dir, cdig, *csize, config, NULL, err) < 0)
        return -1;
    *manifest = steal_pointer(&m);
    return 0;
}

int ap_oci_read(const char *dir, struct ap_oci_info *info, ap_error **err)
{
    memset(info, 0, sizeof(*info));
    char path[4096];
    cleanup_cjson cJSON *m = NULL;
    cleanup_cjson cJSON *cfg = NULL;
    if (load_image(dir, &m, &cfg, info->manifest_digest, &info->manifest_size, &info->config_size,
                   err) < 0)
        return -1;
    info->compressed_bytes = info->manifest_size + info->config_size;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        if (info->n_layers == AP_OCI_MAX_LAYERS)
            return ap_error_make(err, 0, "%s: more than %d layers", dir, AP_OCI_MAX_LAYERS);
        const char *ldig;
        uint64_t lsize;
        if (get_descriptor(l, "manifest layer", &ldig, &lsize, err) < 0)
            return -1;
        if (strncmp(ldig, "sha256:", 7) != 0 || !ap_sha256_hex_valid(ldig + 7))
            return ap_error_make(err, 0, "%s: unsupported layer digest \"%s\"", dir, ldig);
        if (ap_fs_path(path, sizeof(path), "%s/blobs/sha256/%s", dir, ldig + 7) < 0)
            return ap_error_make(err, ENAMETOOLONG, "layer %s in layout %.64s...", ldig, dir);
        struct stat st;
        if (stat(path, &st) < 0)
            return ap_error_make(err, errno, "layer blob %s", path);
        if ((uint64_t)st.st_size != lsize)
            return ap_error_make(err, 0, "layer blob %s has %lld bytes, the manifest says %llu",
                                 path, (long long)st.st_size, (unsigned long long)lsize);
        strcpy(info->layer_digest[info->n_layers], ldig + 7);
        info->layer_size[info->n_layers++] = lsize;
        info->compressed_bytes += lsize;
    }
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(m, "annotations");
    info->unpacked_bytes = u64_annotation(ann, "appliance.unpacked_bytes");
    info->files = u64_annotation(ann, "appliance.files");
    info->packages = u64_annotation(ann, "appliance.packages");
    copy_annotation(ann, "appliance.lock.sha256", info->lock_sha256, sizeof(info->lock_sha256));
    copy_annotation(ann, "appliance.version", info->version, sizeof(info->version));
    copy_annotation(ann, "org.opencontainers.image.created", info->created, sizeof(info->created));
    copy_annotation(ann, "org.opencontainers.image.title", info->title, sizeof(info->title));
    return 0;
}

/* The path of the layer blob with DIGEST in the layout at DIR. */
static int layer_path(const char *dir, const char *digest, char *path, size_t len, ap_error **err)
{
    if (ap_fs_path(path, len, "%s/blobs/sha256/%s", dir, digest) < 0)
        return ap_error_make(err, ENAMETOOLONG, "layer %s in layout %.64s...", digest, dir);
    return 0;
}

int ap_oci_unpack(const char *dir, const char *dest, ap_error **err)
{
    struct ap_oci_info info;
    if (ap_oci_read(dir, &info, err) < 0)
        return -1;
    /* Every layer is mapped and checked against its digest before anything is written, so a
     * corrupt image leaves no half-made DEST behind. */
    void *maps[AP_OCI_MAX_LAYERS] = {NULL};
    int rc = 0;
    for (size_t i = 0; i < info.n_layers && rc == 0; i++) {
        char path[4096];
        if ((rc = layer_path(dir, info.layer_digest[i], path, sizeof(path), err)) < 0)
            break;
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = (size_t)info.layer_size[i];
        if (fd < 0) {
            rc = ap_error_make(err, errno, "opening %s", path);
            break;
        }
        void *map = len > 0 ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
        if (map == MAP_FAILED) {
            rc = ap_error_make(err, errno, "mapping %s", path);
            break;
        }
        maps[i] = map;
        char hex[AP_SHA256_HEX_LEN + 1];
        ap_sha256_hex(map, len, hex);
        if (strcmp(hex, info.layer_digest[i]) != 0)
            rc = ap_error_make(err, 0, "layer %s is corrupt (its sha256 is %s)", path, hex);
    }
    cleanup_close int rootfd = -1;
    if (rc == 0 && ap_fs_mkdir_p(dest, 0755, err) < 0)
        rc = -1;
    if (rc == 0) {
        rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
            rc = ap_error_make(err, errno, "opening %s", dest);
    }
    for (size_t i = 0; i < info.n_layers && rc == 0; i++) {
        char path[4096];
        if ((rc = layer_path(dir, info.layer_digest[i], path, sizeof(path), err)) < 0)
            break;
        struct archive *a = NULL;
        struct ap_tar_policy p;
        ap_tar_default_policy(&p, 0);
        struct ap_unpack u;
        ap_unpack_init(&u, rootfd);
        rc = ap_tar_open_memory(maps[i], (size_t)info.layer_size[i], path, &a, err);
        if (rc == 0)
            rc = ap_tar_each(a, path, &p, ap_unpack_entry, &u, err);
        ap_unpack_done(&u);
        if (a != NULL)
            archive_read_free(a);
    }
    for (size_t i = 0; i < info.n_layers; i++)
        if (maps[i] != NULL)
            munmap(maps[i], (size_t)info.layer_size[i]);
    return rc < 0 ? -1 : 0;
}

int ap_oci_read_config(const char *dir, cJSON **out, ap_error **err)
{
    char mdigest[AP_SHA256_HEX_LEN + 1];
    uint64_t msize, csize;
    cleanup_cjson cJSON *m = NULL;
    cleanup_cjson cJSON *cfg = NULL;
    if (load_image(dir, &m, &cfg, mdigest, &msize, &csize, err) < 0)
        return -1;
    cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(cfg, "config");
    *out = c != NULL ? c : cJSON_CreateObject();
    return 0;
}

int ap_oci_run_read(const char *dir, int want_argv, struct ap_oci_run *run, ap_error **err)
{
    memset(run, 0, sizeof(*run));
    if (ap_oci_read_config(dir, &run->cfg, err) < 0)
        return -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(run->cfg, "Env"))
    {
        if (cJSON_IsString(it) && strchr(it->valuestring, '=') != NULL &&
            ap_sandbox_env_set(run->env, &run->n_env, AP_OCI_RUN_MAX, it->valuestring) < 0)
            return ap_error_make(err, 0,
                                 "more than %d environment variables; at most %d are supported",
                                 AP_OCI_RUN_MAX - 1, AP_OCI_RUN_MAX - 1);
    }
    const cJSON *wd = cJSON_GetObjectItemCaseSensitive(run->cfg, "WorkingDir");
    if (cJSON_IsString(wd) && wd->valuestring[0] == '/')
        run->workdir = wd->valuestring;
    const char *keys[] = {"Entrypoint", "Cmd"};
    for (size_t k = 0; want_argv && k < 2; k++) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(run->cfg, keys[k]))
        {
            if (!cJSON_IsString(it))
                return ap_error_make(err, 0, "an entry of its %s is not a string", keys[k]);
            if (run->n_argv + 1 >= AP_OCI_RUN_MAX)
                return ap_error_make(err, 0,
                                     "its entrypoint and cmd have more than %d words; at most "
                                     "%d are supported",
                                     AP_OCI_RUN_MAX - 1, AP_OCI_RUN_MAX - 1);
            run->argv[run->n_argv++] = it->valuestring;
        }
    }
    return 0;
}

void ap_oci_run_free(struct ap_oci_run *run)
{
    cJSON_Delete(run->cfg);
    memset(run, 0, sizeof(*run));
}

int ap_oci_rootfs(const char *cache_dir, const char *layout, char *out, size_t len, ap_error **err)
{
    struct ap_oci_info info;
    if (ap_oci_read(layout, &info, err) < 0)
        return -1;
    char parent[4096];
    if (ap_fs_path(parent, sizeof(parent), "%s/rootfs", cache_dir) < 0 ||
        ap_fs_path(out, len, "%s/%s", parent, info.manifest_digest) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the unpacked root of %s under cache %.64s...",
                             layout, cache_dir);
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (ap_fs_mkdir_p(parent, 0755, err) < 0)
        return -1;
    cleanup_free char *tmp = NULL;
    if (ap_fs_mkdtemp_in(parent, "unpack", &tmp, err) < 0)
        return -1;
    if (chmod(tmp, 0755) < 0 || ap_oci_unpack(layout, tmp, err) < 0 ||
        (rename(tmp, out) < 0 && errno != ENOTEMPTY && errno != EEXIST)) {
        if (*err == NULL)
            ap_error_make(err, errno, "putting the rootfs in place at %s", out);
        ap_error *ignored = NULL;
        ap_fs_remove_tree(tmp, &ignored);
        ap_error_release(&ignored);
        return -1;
    }
    if (access(tmp, F_OK) == 0) {
        ap_error *ignored = NULL; /* another run unpacked it first */
        ap_fs_remove_tree(tmp, &ignored);
        ap_error_release(&ignored);
    }
    return 0;
}
