/* OCI layouts (image/oci.c): a layout written from one tiny layer holds oci-layout, index.json
 * and content-addressed blobs whose bytes match their names and descriptors; writing it again
 * gives the same bytes; rewriting a layout replaces it whole. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/json.h"
#include "image/layer.h"
#include "image/oci.h"
#include "test.h"

#define EPOCH INT64_C(1735689600) /* 2025-01-01T00:00:00Z */

static char tmpdir[4096];
static char layer_path[4200];
static struct ap_layer_stats layer_stats;

/* One directory and one file: the smallest layer that still has content. */
static int write_tiny_layer(ap_error **err)
{
    if (ap_fs_path(layer_path, sizeof(layer_path), "%s/layer.tar.gz", tmpdir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "layer path");
    cleanup_close int fd = open(layer_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ap_error_make(err, errno, "creating %s", layer_path);
    struct ap_layer_writer *w = NULL;
    if (ap_layer_open(EPOCH, ap_layer_fd_sink, &fd, &w, err) < 0)
        return -1;
    static struct ap_entry e;
    static const char hello[] = "hello\n";
    memset(&e, 0, sizeof(e));
    e.type = AP_ENTRY_DIR;
    snprintf(e.path, sizeof(e.path), "etc");
    e.mode = 0755;
    if (ap_layer_add(w, &e, NULL, -1, err) < 0)
        goto fail;
    e.type = AP_ENTRY_FILE;
    snprintf(e.path, sizeof(e.path), "etc/motd");
    e.mode = 0644;
    e.size = sizeof(hello) - 1;
    if (ap_layer_add(w, &e, hello, -1, err) < 0)
        goto fail;
    return ap_layer_finish(w, &layer_stats, err);
fail:
    ap_layer_abort(w);
    return -1;
}

static int setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_oci.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    ap_error *err = NULL;
    if (ap_hash_init(&err) < 0 || write_tiny_layer(&err) < 0) {
        printf("set-up: %s\n", err->msg);
        ap_error_release(&err);
        return -1;
    }
    return 0;
}
TEST_SETUP(setup)

/* Writes the tiny image's layout to dir; the manifest digest goes to mdigest. */
static int write_layout(const char *dir, char *mdigest)
{
    static const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    static const char *cmd[] = {"/bin/cat", "/etc/motd", NULL};
    struct ap_recipe r = {0};
    r.name = "tiny";
    r.description = "one file";
    r.workdir = "/";
    r.source_date_epoch = EPOCH;
    r.env = env;
    r.n_env = 1;
    r.cmd = cmd;
    r.n_cmd = 2;
    struct ap_oci_layer layer = {layer_path, &layer_stats, "tiny layer"};
    struct ap_oci_spec spec = {0};
    spec.recipe = &r;
    spec.layers = &layer;
    spec.n_layers = 1;
    spec.lock_sha256 = "0000000000000000000000000000000000000000000000000000000000000001";
    spec.recipe_sha256 = "0000000000000000000000000000000000000000000000000000000000000002";
    spec.build_key = "key";
    spec.packages = 1;
    ap_error *err = NULL;
    if (ap_oci_write_layout(dir, &spec, mdigest, &err) < 0) {
        test_note("writing %s: %s", dir, err->msg);
        ap_error_release(&err);
        return -1;
    }
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    char *buf = NULL;
    ap_error *err = NULL;
    if (ap_fs_read_file(AT_FDCWD, path, 16 << 20, &buf, len, &err) < 0) {
        test_note("%s", err->msg);
        ap_error_release(&err);
        return NULL;
    }
    return buf;
}

/* Checks a descriptor: "sha256:<hex>" names a blob under dir whose bytes hash to hex and
 * number `size`. Returns the blob (caller frees) or NULL; its hex goes to hex_out. */
static char *check_blob(const char *dir, const cJSON *desc, const char *what, char *hex_out,
                        size_t *len_out)
{
    const cJSON *dig = cJSON_GetObjectItemCaseSensitive(desc, "digest");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(desc, "size");
    if (!CHECK_MSG(cJSON_IsString(dig) && cJSON_IsNumber(size), "%s: no digest or size", what))
        return NULL;
    const char *d = dig->valuestring;
    if (!CHECK_MSG(strncmp(d, "sha256:", 7) == 0 && ap_sha256_hex_valid(d + 7), "%s: digest %s",
                   what, d))
        return NULL;
    char path[4400];
    if (!CHECK(ap_fs_path(path, sizeof(path), "%s/blobs/sha256/%s", dir, d + 7) == 0))
        return NULL;
    size_t len = 0;
    char *blob = slurp(path, &len);
    if (!CHECK_MSG(blob != NULL, "%s: blob %s missing", what, d))
        return NULL;
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(blob, len, hex);
    CHECK_MSG(strcmp(hex, d + 7) == 0, "%s: blob %s hashes to %s", what, d + 7, hex);
    CHECK_MSG((double)len == size->valuedouble, "%s: %zu bytes, descriptor says %.0f", what, len,
              size->valuedouble);
    if (hex_out != NULL)
        snprintf(hex_out, AP_SHA256_HEX_LEN + 1, "%s", d + 7);
    if (len_out != NULL)
        *len_out = len;
    return blob;
}

TEST(layout_files_and_blobs_match_their_descriptors)
{
    char dir[4200], mdigest[AP_SHA256_HEX_LEN + 1] = "";
    if (!CHECK(ap_fs_path(dir, sizeof(dir), "%s/one/tiny", tmpdir) == 0) ||
        write_layout(dir, mdigest) < 0)
        return;
    char path[4400];
    size_t len = 0;
    if (!CHECK(ap_fs_path(path, sizeof(path), "%s/oci-layout", dir) == 0))
        return;
    cleanup_free char *layout = slurp(path, &len);
    CHECK_MSG(layout != NULL && strcmp(layout, "{\"imageLayoutVersion\":\"1.0.0\"}") == 0,
              "oci-layout: %s", layout ? layout : "(missing)");

    if (!CHECK(ap_fs_path(path, sizeof(path), "%s/index.json", dir) == 0))
        return;
    cleanup_cjson cJSON *idx = NULL;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_json_read_file(path, 1 << 20, &idx, &err) == 0, "%s", err ? err->msg : "")) {
        ap_error_release(&err);
        return;
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(idx, "schemaVersion");
    CHECK(cJSON_IsNumber(st) && st->valuedouble == 2);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(idx, "manifests");
    if (!CHECK(cJSON_IsArray(ms) && cJSON_GetArraySize(ms) == 1))
        return;
    const cJSON *mdesc = cJSON_GetArrayItem(ms, 0);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(mdesc, "mediaType");
    CHECK(cJSON_IsString(mt) &&
          strcmp(mt->valuestring, "application/vnd.oci.image.manifest.v1+json") == 0);
    char mhex[AP_SHA256_HEX_LEN + 1] = "";
    size_t mlen = 0;
    cleanup_free char *mtext = check_blob(dir, mdesc, "manifest", mhex, &mlen);
    if (mtext == NULL)
        return;
    CHECK_MSG(strcmp(mhex, mdigest) == 0, "index names %s, the writer returned %s", mhex, mdigest);

    cleanup_cjson cJSON *m = NULL;
    if (!CHECK(ap_json_parse(mtext, mlen, "manifest", &m, &err) == 0)) {
        ap_error_release(&err);
        return;
    }
    const cJSON *cdesc = cJSON_GetObjectItemCaseSensitive(m, "config");
    size_t clen = 0;
    cleanup_free char *ctext = check_blob(dir, cdesc, "config", NULL, &clen);
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "layers");
    if (!CHECK(cJSON_IsArray(layers) && cJSON_GetArraySize(layers) == 1))
        return;
    char lhex[AP_SHA256_HEX_LEN + 1] = "";
    size_t llen = 0;
    cleanup_free char *ltext = check_blob(dir, cJSON_GetArrayItem(layers, 0), "layer", lhex, &llen);
    CHECK(strcmp(lhex, layer_stats.digest) == 0 && llen == layer_stats.compressed_size);

    /* The config names the layer by its uncompressed digest and carries the command. */
    cleanup_cjson cJSON *cfg = NULL;
    if (ctext != NULL && CHECK(ap_json_parse(ctext, clen, "config", &cfg, &err) == 0)) {
        const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(cfg, "rootfs");
        const cJSON *diff =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids"), 0);
        char want[80];
        snprintf(want, sizeof(want), "sha256:%s", layer_stats.diff_id);
        CHECK(cJSON_IsString(diff) && strcmp(diff->valuestring, want) == 0);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(cfg, "config");
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(c, "Cmd");
        CHECK(cJSON_GetArraySize(cmd) == 2 &&
              strcmp(cJSON_GetArrayItem(cmd, 1)->valuestring, "/etc/motd") == 0);
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(cfg, "created");
        CHECK(cJSON_IsString(created) && strcmp(created->valuestring, "2025-01-01T00:00:00Z") == 0);
    }
    ap_error_release(&err);

    /* Nothing else under blobs/sha256, and the reader agrees with what was written. */
    char blobs[4400];
    if (!CHECK(ap_fs_path(blobs, sizeof(blobs), "%s/blobs/sha256", dir) == 0))
        return;
    DIR *d = opendir(blobs);
    int n = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    CHECK_MSG(n == 3, "%d blobs, want 3 (manifest, config, layer)", n);
    struct ap_oci_info info;
    CHECK(ap_oci_read(dir, &info, &err) == 0);
    CHECK(strcmp(info.manifest_digest, mdigest) == 0 && info.n_layers == 1);
    CHECK(info.compressed_bytes == mlen + clen + llen);
    ap_error_release(&err);
}

/* Every regular file under dir, relative path and bytes, in a sorted listing "path\0size\0"
 * followed by the bytes: two trees are byte-identical when their listings are. */
static int list_tree(const char *root, const char *rel, struct test_buf *out)
{
    char path[4400];
    if (ap_fs_path(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel) < 0)
        return -1;
    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char sub[4400], full[4400];
        struct stat st;
        if (ap_fs_path(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", name) < 0 ||
            ap_fs_path(full, sizeof(full), "%s/%s", root, sub) < 0) {
            rc = -1;
        } else if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && lstat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                rc |= list_tree(root, sub, out);
            } else {
                size_t len = 0;
                char *data = slurp(full, &len);
                char head[4500];
                int hn = snprintf(head, sizeof(head), "%s%c%zu%c", sub, 0, len, 0);
                test_buf_append(out, head, (size_t)hn);
                if (data != NULL)
                    test_buf_append(out, data, len);
                free(data);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

TEST(writing_twice_gives_the_same_bytes)
{
    char a[4200], b[4200], ma[AP_SHA256_HEX_LEN + 1] = "", mb[AP_SHA256_HEX_LEN + 1] = "";
    if (!CHECK(ap_fs_path(a, sizeof(a), "%s/twice/a", tmpdir) == 0 &&
               ap_fs_path(b, sizeof(b), "%s/twice/b", tmpdir) == 0))
        return;
    if (write_layout(a, ma) < 0)
        return;
    /* A second later: nothing in the layout may depend on the time of writing. */
    sleep(1);
    if (write_layout(b, mb) < 0)
        return;
    CHECK_MSG(strcmp(ma, mb) == 0, "manifest %s then %s", ma, mb);
    struct test_buf la = {0}, lb = {0};
    CHECK(list_tree(a, "", &la) == 0 && list_tree(b, "", &lb) == 0);
    CHECK(la.len > 0);
    CHECK_MSG(la.len == lb.len && memcmp(la.data, lb.data, la.len) == 0,
              "the two layouts differ (%zu and %zu bytes of listing)", la.len, lb.len);

    /* Rewriting a in place swaps the whole layout and leaves no temporary beside it. */
    char m2[AP_SHA256_HEX_LEN + 1] = "";
    if (write_layout(a, m2) == 0) {
        struct test_buf l2 = {0};
        CHECK(list_tree(a, "", &l2) == 0);
        CHECK(l2.len == la.len && memcmp(l2.data, la.data, la.len) == 0);
        test_buf_free(&l2);
        char parent[4200];
        CHECK(ap_fs_path(parent, sizeof(parent), "%s/twice", tmpdir) == 0);
        DIR *d = opendir(parent);
        int n = 0;
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
            n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        if (d != NULL)
            closedir(d);
        CHECK_MSG(n == 2, "%d entries beside the layouts, want 2 (a and b)", n);
    }
    test_buf_free(&la);
    test_buf_free(&lb);
}

TEST(a_layout_path_that_does_not_fit_is_named_not_cut)
{
    /* Control: the same read of a layout at a short path works. */
    char dir[4200], mdigest[AP_SHA256_HEX_LEN + 1] = "";
    struct ap_oci_info info;
    ap_error *err = NULL;
    if (!CHECK(ap_fs_path(dir, sizeof(dir), "%s/short", tmpdir) == 0) ||
        !CHECK(write_layout(dir, mdigest) == 0))
        return;
    CHECK_MSG(ap_oci_read(dir, &info, &err) == 0, "%s", err ? err->msg : "");
    ap_error_release(&err);

    /* Short components, so a cut "<dir>/index.js" would be a plain missing file (ENOENT);
     * 4090 bytes leave no room for "/index.json" in the 4096-byte buffer. */
    size_t n = strlen(tmpdir);
    memcpy(dir, tmpdir, n);
    for (; n < 4090; n++)
        dir[n] = n % 2 ? '/' : 'a';
    dir[n] = '\0';
    CHECK(ap_oci_read(dir, &info, &err) < 0);
    if (!CHECK(err != NULL))
        return;
    CHECK_MSG(err->status == ENAMETOOLONG, "status %d: %s", err->status, err->msg);
    CHECK_MSG(test_contains(err->msg, "the index of layout"), "%s", err->msg);
    ap_error_release(&err);
}

TEST(cleanup_removes_the_test_tree)
{
    ap_error *err = NULL;
    CHECK(ap_fs_remove_tree(tmpdir, &err) == 0);
    CHECK(access(tmpdir, F_OK) < 0 && errno == ENOENT);
    ap_error_release(&err);
}
