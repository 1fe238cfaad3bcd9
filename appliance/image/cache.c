/* The layer cache: layer.tar.gz and stats.json in a folder named by the inputs' digest. */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/json.h"

static int stats_to_json(const struct ap_layer_stats *s, const char *path, ap_error **err)
{
    cleanup_cjson cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "digest", s->digest);
    cJSON_AddStringToObject(j, "diff_id", s->diff_id);
    cJSON_AddNumberToObject(j, "compressed_size", (double)s->compressed_size);
    cJSON_AddNumberToObject(j, "tar_size", (double)s->tar_size);
    cJSON_AddNumberToObject(j, "unpacked_bytes", (double)s->unpacked_bytes);
    cJSON_AddNumberToObject(j, "entries", (double)s->entries);
    cJSON_AddNumberToObject(j, "files", (double)s->files);
    return ap_json_write_file(path, j, err);
}

/* Loads a cached layer's statistics and checks the layer's bytes against them. */
int ap_image_cached_layer(const char *dir, struct ap_layer_stats *s, ap_error **err)
{
    char path[4096];
    if (ap_fs_path(path, sizeof(path), "%s/stats.json", dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the statistics of cached layer %.64s...", dir);
    cleanup_cjson cJSON *j = NULL;
    if (ap_json_read_file(path, 1u << 16, &j, err) < 0)
        return -1;
    const char *digest = NULL, *diff = NULL;
    int64_t v[5];
    static const char *const keys[] = {"compressed_size", "tar_size", "unpacked_bytes", "entries",
                                       "files"};
    if (ap_json_get_string(j, "digest", 1, path, &digest, err) < 0 ||
        ap_json_get_string(j, "diff_id", 1, path, &diff, err) < 0 || !ap_sha256_hex_valid(digest) ||
        !ap_sha256_hex_valid(diff))
        return ap_error_make(err, 0, "%s: bad digests", path);
    for (size_t i = 0; i < 5; i++)
        if (ap_json_get_int(j, keys[i], 1, 0, INT64_C(1) << 50, path, &v[i], err) < 0)
            return -1;
    memset(s, 0, sizeof(*s));
    strcpy(s->digest, digest);
    strcpy(s->diff_id, diff);
    s->compressed_size = (uint64_t)v[0];
    s->tar_size = (uint64_t)v[1];
    s->unpacked_bytes = (uint64_t)v[2];
    s->entries = (uint64_t)v[3];
    s->files = (uint64_t)v[4];
    char hex[AP_SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    if (ap_fs_path(path, sizeof(path), "%s/layer.tar.gz", dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "cached layer %.64s...", dir);
    if (ap_sha256_file(AT_FDCWD, path, hex, &size, err) < 0)
        return -1;
    if (strcmp(hex, s->digest) != 0 || size != s->compressed_size)
        return ap_error_make(err, 0, "cached layer %s is corrupt", path);
    return 0;
}

int ap_image_pack_tree(const char *root, int64_t mtime, const char *work, const char *final_dir,
                       struct ap_layer_stats *s, ap_error **err)
{
    char layer[4096], stats[4096];
    if (ap_fs_path(layer, sizeof(layer), "%s/layer.tar.gz", work) < 0 ||
        ap_fs_path(stats, sizeof(stats), "%s/stats.json", work) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s", work);
    cleanup_close int lfd = open(layer, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (lfd < 0)
        return ap_error_make(err, errno, "creating %s", layer);
    if (ap_layer_write_tree(root, mtime, ap_layer_fd_sink, &lfd, s, err) < 0)
        return -1;
    if (fsync(lfd) < 0)
        return ap_error_make(err, errno, "writing %s", layer);
    if (ap_fs_remove_tree(root, err) < 0 || stats_to_json(s, stats, err) < 0)
        return -1;
    /* A concurrent build of the same key may have won; either result is the same. */
    if (rename(work, final_dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
        return ap_error_make(err, errno, "storing the build in %s", final_dir);
    return 0;
}
