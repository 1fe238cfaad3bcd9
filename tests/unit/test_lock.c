/* lock.json and image.json parsing (image/lock.c, image/recipe.c). */
#include <stdarg.h>
#include <string.h>

#include "core/error.h"
#include "image/lock.h"
#include "image/recipe.h"
#include "test.h"

#define SHA_A "1ddc7e6c5925f748eefb7ca811d98e049f18c158bb21fbc7e122262ce6011e49"
#define SHA_B "5b6825de4263824b78c4c51f6476414f3b4e89c2ab63e81dc8b9b5501e867cf6"

/* A package object with one field replaced: `field` gets the raw JSON `value`, or is left out
 * when value is NULL. */
static void pkg_json(char *out, size_t len, const char *name, const char *field, const char *value)
{
    static const char *const keys[] = {"name",     "version", "architecture", "suite",
                                       "filename", "sha256",  "size"};
    char defaults[7][160];
    snprintf(defaults[0], sizeof(defaults[0]), "\"%s\"", name);
    snprintf(defaults[1], sizeof(defaults[1]), "\"1.2-3+deb13u1\"");
    snprintf(defaults[2], sizeof(defaults[2]), "\"amd64\"");
    snprintf(defaults[3], sizeof(defaults[3]), "\"trixie\"");
    snprintf(defaults[4], sizeof(defaults[4]), "\"pool/main/x/%s/%s_1.2-3+deb13u1_amd64.deb\"",
             name, name);
    snprintf(defaults[5], sizeof(defaults[5]), "\"%s\"", name[0] == 'a' ? SHA_A : SHA_B);
    snprintf(defaults[6], sizeof(defaults[6]), "1234");
    size_t o = (size_t)snprintf(out, len, "{");
    const char *sep = "";
    for (size_t i = 0; i < 7; i++) {
        const char *v = defaults[i];
        if (field != NULL && strcmp(field, keys[i]) == 0) {
            if (value == NULL)
                continue;
            v = value;
        }
        o += (size_t)snprintf(out + o, len - o, "%s\"%s\": %s", sep, keys[i], v);
        sep = ", ";
    }
    snprintf(out + o, len - o, "}");
}

/* A whole lock whose second package ("bpkg") has `field` replaced as in pkg_json. */
static void lock_json(char *out, size_t len, const char *field, const char *value)
{
    char a[1024], b[1024];
    pkg_json(a, sizeof(a), "apkg", NULL, NULL);
    pkg_json(b, sizeof(b), "bpkg", field, value);
    snprintf(out, len,
             "{\n  \"lock_version\": 1,\n  \"image\": \"test-image\",\n"
             "  \"architecture\": \"amd64\",\n  \"mirror\": \"http://deb.debian.org/debian\",\n"
             "  \"packages\": [\n    %s,\n    %s\n  ]\n}\n",
             a, b);
}

/* Parses buf and expects a refusal whose message contains every NULL-terminated needle. */
static void lock_refused(const char *buf, int line, ...)
{
    struct ap_lock *l = NULL;
    ap_error *err = NULL;
    int r = ap_lock_parse(buf, strlen(buf), "images/t/lock.json", &l, &err);
    CHECK_MSG(r == -1 && l == NULL, "line %d: lock accepted", line);
    if (r == 0)
        ap_lock_free(l);
    if (!CHECK_MSG(err != NULL, "line %d: no error", line))
        return;
    CHECK_MSG(test_contains(err->msg, "images/t/lock.json"), "line %d: %s", line, err->msg);
    va_list ap;
    va_start(ap, line);
    for (const char *needle; (needle = va_arg(ap, const char *)) != NULL;)
        CHECK_MSG(test_contains(err->msg, needle), "line %d: \"%s\" not in: %s", line, needle,
                  err->msg);
    va_end(ap);
    ap_error_release(&err);
}

/* lock_refused on a lock whose second package has `field` set to `value`. */
static void pkg_refused(const char *field, const char *value, const char *needle, int line)
{
    char buf[4096];
    lock_json(buf, sizeof(buf), field, value);
    lock_refused(buf, line, needle, (const char *)NULL);
}

TEST(valid_lock)
{
    char buf[4096];
    lock_json(buf, sizeof(buf), NULL, NULL);
    struct ap_lock *l = NULL;
    ap_error *err = NULL;
    int r = ap_lock_parse(buf, strlen(buf), "lock.json", &l, &err);
    if (!CHECK_MSG(r == 0, "%s", err ? err->msg : "?")) {
        ap_error_release(&err);
        return;
    }
    CHECK(strcmp(l->image, "test-image") == 0);
    CHECK(strcmp(l->architecture, "amd64") == 0);
    CHECK(l->mirror != NULL && strcmp(l->mirror, "http://deb.debian.org/debian") == 0);
    if (CHECK(l->n == 2)) {
        const struct ap_lock_pkg *a = &l->pkgs[0], *b = &l->pkgs[1];
        CHECK(strcmp(a->name, "apkg") == 0);
        CHECK(strcmp(a->version, "1.2-3+deb13u1") == 0);
        CHECK(strcmp(a->architecture, "amd64") == 0);
        CHECK(strcmp(a->suite, "trixie") == 0);
        CHECK(strcmp(a->filename, "pool/main/x/apkg/apkg_1.2-3+deb13u1_amd64.deb") == 0);
        CHECK(strcmp(a->sha256, SHA_A) == 0);
        CHECK(a->size == 1234);
        CHECK(strcmp(b->name, "bpkg") == 0);
        CHECK(strcmp(b->sha256, SHA_B) == 0);
    }
    CHECK(err == NULL);
    ap_lock_free(l);
}

TEST(lock_without_mirror_is_fine)
{
    char buf[4096];
    lock_json(buf, sizeof(buf), NULL, NULL);
    char *m = strstr(buf, "  \"mirror\"");
    char *nl = m != NULL ? strchr(m, '\n') : NULL;
    if (!CHECK(nl != NULL))
        return;
    memmove(m, nl + 1, strlen(nl + 1) + 1);
    struct ap_lock *l = NULL;
    ap_error *err = NULL;
    CHECK_MSG(ap_lock_parse(buf, strlen(buf), "lock.json", &l, &err) == 0, "%s",
              err ? err->msg : "?");
    CHECK(l != NULL && l->mirror == NULL);
    ap_lock_free(l);
    ap_error_release(&err);
}

TEST(wrong_lock_version)
{
    char buf[4096];
    lock_json(buf, sizeof(buf), NULL, NULL);
    char *v = strstr(buf, "\"lock_version\": 1");
    v[strlen("\"lock_version\": ")] = '2';
    lock_refused(buf, __LINE__, "lock_version", (const char *)NULL);
    v[strlen("\"lock_version\": ")] = '0';
    lock_refused(buf, __LINE__, "lock_version", (const char *)NULL);
}

TEST(packages_missing_or_empty)
{
    lock_refused("{\"lock_version\": 1, \"image\": \"x\", \"architecture\": \"amd64\"}", __LINE__,
                 "packages", (const char *)NULL);
    lock_refused("{\"lock_version\": 1, \"image\": \"x\", \"architecture\": \"amd64\", "
                 "\"packages\": []}",
                 __LINE__, "packages", (const char *)NULL);
    lock_refused("{\"lock_version\": 1, \"image\": \"x\", \"architecture\": \"amd64\", "
                 "\"packages\": {}}",
                 __LINE__, "packages", (const char *)NULL);
    lock_refused("{\"lock_version\": 1, \"architecture\": \"amd64\", \"packages\": []}", __LINE__,
                 "image", (const char *)NULL);
}

TEST(bad_sha256)
{
    pkg_refused("sha256", "\"5B6825DE4263824B78C4C51F6476414F3B4E89C2AB63E81DC8B9B5501E867CF6\"",
                "sha256", __LINE__);
    pkg_refused("sha256", "\"5b6825de\"", "sha256", __LINE__);
    pkg_refused("sha256", "\"5b6825de4263824b78c4c51f6476414f3b4e89c2ab63e81dc8b9b5501e867cf6a\"",
                "sha256", __LINE__);
    pkg_refused("sha256", "\"zb6825de4263824b78c4c51f6476414f3b4e89c2ab63e81dc8b9b5501e867cf6\"",
                "sha256", __LINE__);
    pkg_refused("sha256", "42", "sha256", __LINE__);
    pkg_refused("sha256", NULL, "sha256", __LINE__);
    /* The message names the package as well as the field. */
    pkg_refused("sha256", "\"5b6825de\"", "bpkg", __LINE__);
}

TEST(bad_filename)
{
    pkg_refused("filename", "\"pool/main/../../etc/x.deb\"", "filename", __LINE__);
    pkg_refused("filename", "\"pool/main/b/bpkg/../bpkg.deb\"", "filename", __LINE__);
    pkg_refused("filename", "\"dists/main/b/bpkg.deb\"", "filename", __LINE__);
    pkg_refused("filename", "\"/pool/main/b/bpkg.deb\"", "filename", __LINE__);
    pkg_refused("filename", "\"pool//main/b/bpkg.deb\"", "filename", __LINE__);
    pkg_refused("filename", "\"pool/main/b/bpkg.tar\"", "filename", __LINE__);
    pkg_refused("filename", "\"pool/main/b/b pkg.deb\"", "filename", __LINE__);
    pkg_refused("filename", "\"pool/main/b/bpkg\\n.deb\"", "filename", __LINE__);
    pkg_refused("filename", "\"pool/../b.deb\"", "bpkg", __LINE__);
}

TEST(bad_size)
{
    pkg_refused("size", "0", "size", __LINE__);
    pkg_refused("size", "-5", "size", __LINE__);
    pkg_refused("size", "1.5", "size", __LINE__);
    pkg_refused("size", "\"12\"", "size", __LINE__);
    pkg_refused("size", "1e30", "size", __LINE__);
    pkg_refused("size", NULL, "size", __LINE__);
    pkg_refused("size", "0", "packages[1]", __LINE__);
}

TEST(duplicate_package)
{
    char a[1024], buf[4096];
    pkg_json(a, sizeof(a), "apkg", NULL, NULL);
    snprintf(buf, sizeof(buf),
             "{\"lock_version\": 1, \"image\": \"x\", \"architecture\": \"amd64\", "
             "\"packages\": [%s, %s]}",
             a, a);
    lock_refused(buf, __LINE__, "apkg", "twice", (const char *)NULL);
}

TEST(bad_package_name)
{
    pkg_refused("name", "\"b_pkg\"", "b_pkg", __LINE__);
    pkg_refused("name", "\"-bpkg\"", "name", __LINE__);
    pkg_refused("name", "\"b\"", "name", __LINE__);
    pkg_refused("name", "\"b pkg\"", "name", __LINE__);
    pkg_refused("name", "\"Bpkg\"", "Bpkg", __LINE__);
    pkg_refused("name", "\"\"", "name", __LINE__);
    pkg_refused("name", NULL, "name", __LINE__);
    pkg_refused("version", "\"1.0 beta\"", "version", __LINE__);
    pkg_refused("architecture", "\"amd64/../x\"", "architecture", __LINE__);
    pkg_refused("suite", "\"\"", "suite", __LINE__);
}

TEST(invalid_json_names_the_line)
{
    lock_refused("{\n  \"lock_version\": 1,\n  \"image\": oops\n}\n", __LINE__, "line 3",
                 (const char *)NULL);
    lock_refused("", __LINE__, "invalid JSON", (const char *)NULL);
    lock_refused("[1, 2]", __LINE__, "lock_version", (const char *)NULL);
}

/* ---- image.json ---- */

#define RECIPE_OK                                                                                  \
    "{\n"                                                                                          \
    "  \"name\": \"py-3.13\",\n"                                                                   \
    "  \"description\": \"a test image\",\n"                                                       \
    "  \"source_date_epoch\": 1735689600,\n"                                                       \
    "  \"suites\": [\"trixie\"],\n"                                                                \
    "  \"packages\": [\"python3.13\", \"libgcc-s1\"],\n"                                           \
    "  \"env\": [\"PATH=/usr/bin:/bin\", \"LANG=C.UTF-8\"],\n"                                     \
    "  \"entrypoint\": [\"/usr/bin/python3.13\"],\n"                                               \
    "  \"cmd\": [\"-c\", \"print(1)\"],\n"                                                         \
    "  \"workdir\": \"/srv\",\n"                                                                   \
    "  \"files\": [{\"src\": \"app/main.py\", \"dst\": \"/srv/main.py\", \"mode\": \"0755\"},\n"   \
    "            {\"src\": \"./conf//x.ini\", \"dst\": \"/etc/x.ini\"}]\n"                         \
    "}\n"

TEST(valid_recipe)
{
    struct ap_recipe *r = NULL;
    ap_error *err = NULL;
    int rc = ap_recipe_parse(RECIPE_OK, strlen(RECIPE_OK), "image.json", &r, &err);
    if (!CHECK_MSG(rc == 0, "%s", err ? err->msg : "?")) {
        ap_error_release(&err);
        return;
    }
    CHECK(strcmp(r->name, "py-3.13") == 0);
    CHECK(strcmp(r->description, "a test image") == 0);
    CHECK(strcmp(r->workdir, "/srv") == 0);
    CHECK(r->source_date_epoch == 1735689600);
    CHECK(r->n_suites == 1 && strcmp(r->suites[0], "trixie") == 0 && r->suites[1] == NULL);
    CHECK(r->n_packages == 2);
    CHECK(r->n_env == 2 && strcmp(r->env[1], "LANG=C.UTF-8") == 0 && r->env[2] == NULL);
    CHECK(r->n_entrypoint == 1 && strcmp(r->entrypoint[0], "/usr/bin/python3.13") == 0);
    CHECK(r->n_cmd == 2 && strcmp(r->cmd[1], "print(1)") == 0);
    if (CHECK(r->n_files == 2)) {
        CHECK(strcmp(r->files[0].src, "app/main.py") == 0);
        CHECK(strcmp(r->files[0].dst, "/srv/main.py") == 0);
        CHECK(r->files[0].mode == 0755);
        CHECK(r->files[1].mode == 0644);
    }
    ap_recipe_free(r);
}

/* Parses RECIPE_OK with the text `from` replaced by `to`, and expects a refusal naming
 * `needle`. */
static void recipe_refused(const char *from, const char *to, const char *needle, int line)
{
    char buf[4096];
    const char *at = strstr(RECIPE_OK, from);
    if (!CHECK_MSG(at != NULL, "line %d: \"%s\" not in the recipe", line, from))
        return;
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - RECIPE_OK), RECIPE_OK, to, at + strlen(from));
    struct ap_recipe *r = NULL;
    ap_error *err = NULL;
    int rc = ap_recipe_parse(buf, strlen(buf), "images/t/image.json", &r, &err);
    CHECK_MSG(rc == -1, "line %d: recipe accepted", line);
    if (rc == 0)
        ap_recipe_free(r);
    CHECK_MSG(test_contains(err ? err->msg : NULL, needle), "line %d: \"%s\" not in: %s", line,
              needle, err ? err->msg : "(none)");
    ap_error_release(&err);
}

TEST(recipe_refusals)
{
    recipe_refused("\"name\": \"py-3.13\",", "", "name", __LINE__);
    recipe_refused("\"name\": \"py-3.13\"", "\"name\": \"Py 3\"", "name", __LINE__);
    recipe_refused("\"LANG=C.UTF-8\"", "\"LANG\"", "env[1]", __LINE__);
    recipe_refused("\"LANG=C.UTF-8\"", "\"=x\"", "env[1]", __LINE__);
    recipe_refused("\"LANG=C.UTF-8\"", "7", "env", __LINE__);
    recipe_refused("\"/etc/x.ini\"", "\"etc/x.ini\"", "dst", __LINE__);
    recipe_refused("\"/etc/x.ini\"", "\"/etc/../../x.ini\"", "dst", __LINE__);
    recipe_refused("\"/etc/x.ini\"", "\"/\"", "dst", __LINE__);
    recipe_refused("\"app/main.py\"", "\"../main.py\"", "src", __LINE__);
    recipe_refused("\"app/main.py\"", "\"/srv/main.py\"", "src", __LINE__);
    recipe_refused("\"0755\"", "\"0999\"", "mode", __LINE__);
    recipe_refused("\"0755\"", "\"rwx\"", "mode", __LINE__);
    recipe_refused("\"0755\"", "\"17777\"", "mode", __LINE__);
    recipe_refused("\"0755\"", "\"\"", "mode", __LINE__);
    recipe_refused("\"0755\"", "493", "mode", __LINE__);
    recipe_refused("\"0755\"", "\" 644\"", "mode", __LINE__);
    recipe_refused("\"0755\"", "\"+644\"", "mode", __LINE__);
    recipe_refused("\"0755\"", "\"-0\"", "mode", __LINE__);
    recipe_refused("\"workdir\": \"/srv\"", "\"workdir\": \"srv\"", "workdir", __LINE__);
    recipe_refused("\"suites\": [\"trixie\"],", "", "suites", __LINE__);
    recipe_refused("1735689600", "-1", "source_date_epoch", __LINE__);
    recipe_refused("[\"python3.13\", \"libgcc-s1\"]", "[]", "packages", __LINE__);
    recipe_refused("\"trixie\"]", "\"trixie\"", "line", __LINE__);
}

/* Parses a recipe with the given name, "packages" and "stages" (raw JSON). */
static int parse_with_stages(const char *name, const char *packages, const char *stages,
                             struct ap_recipe **r, ap_error **err)
{
    char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"name\": \"%s\", \"source_date_epoch\": 1735689600, \"suites\": [\"trixie\"], "
             "\"packages\": %s, \"stages\": %s}",
             name, packages, stages);
    return ap_recipe_parse(buf, strlen(buf), "images/t/image.json", r, err);
}

#define STAGE_SELF "{\"name\": \"bytecode\", \"builder\": \"self\", \"command\": [\"true\"]}"
#define STAGE_GO "{\"name\": \"hello\", \"builder\": \"go-1.23\", \"command\": [\"true\"]}"

/* Builder "self": the layers of the image before the stage, so it needs some. */
TEST(self_builder)
{
    static const struct {
        const char *name, *packages, *stages, *refusal; /* NULL: accepted */
        size_t n_stages;
    } cases[] = {
        {"py", "[\"python3.13\"]", "[" STAGE_SELF "]", NULL, 1},
        {"py", "[]", "[" STAGE_GO ", " STAGE_SELF "]", NULL, 2},
        {"py", "[\"python3.13\"]", "[" STAGE_SELF ", " STAGE_SELF "]", NULL, 2},
        {"py", "[]", "[" STAGE_SELF "]", "needs packages or an earlier stage", 0},
        {"py", "[]", "[" STAGE_SELF ", " STAGE_GO "]", "needs packages or an earlier stage", 0},
        {"self", "[\"python3.13\"]", "[" STAGE_GO "]", "is reserved", 0},
        {"go-1.23", "[\"golang-1.23\"]", "[" STAGE_GO "]", "cannot be built in the image itself",
         0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ap_recipe *r = NULL;
        ap_error *err = NULL;
        int rc = parse_with_stages(cases[i].name, cases[i].packages, cases[i].stages, &r, &err);
        if (cases[i].refusal == NULL) {
            if (CHECK_MSG(rc == 0, "case %zu: %s", i, err ? err->msg : "?")) {
                CHECK_MSG(r->n_stages == cases[i].n_stages, "case %zu: %zu stages", i, r->n_stages);
                CHECK(strcmp(r->stages[r->n_stages - 1].builder, AP_RECIPE_BUILDER_SELF) == 0);
            }
        } else {
            CHECK_MSG(rc == -1, "case %zu: accepted", i);
            CHECK_MSG(test_contains(err ? err->msg : NULL, cases[i].refusal),
                      "case %zu: \"%s\" not in: %s", i, cases[i].refusal,
                      err ? err->msg : "(none)");
        }
        if (rc == 0)
            ap_recipe_free(r);
        ap_error_release(&err);
    }
}

/* "files": "src" in the image's folder or "path" in the tree, one of the two. */
TEST(files_from_the_tree)
{
    static const char ok[] =
        "{\"name\": \"go-x\", \"source_date_epoch\": 1, \"suites\": [], \"packages\": [], "
        "\"files\": [{\"path\": \"images/static-root/etc/passwd\", \"dst\": \"/etc/passwd\"}, "
        "{\"src\": \"group\", \"dst\": \"/etc/group\"}], "
        "\"stages\": [{\"name\": \"x\", \"builder\": \"go-1.23\", \"command\": [\"true\"]}]}";
    struct ap_recipe *r = NULL;
    ap_error *err = NULL;
    int rc = ap_recipe_parse(ok, strlen(ok), "image.json", &r, &err);
    if (CHECK_MSG(rc == 0, "%s", err ? err->msg : "?") && CHECK(r->n_files == 2)) {
        CHECK(r->files[0].from_tree &&
              strcmp(r->files[0].src, "images/static-root/etc/passwd") == 0);
        CHECK(!r->files[1].from_tree && strcmp(r->files[1].src, "group") == 0);
    }
    if (rc == 0)
        ap_recipe_free(r);
    ap_error_release(&err);
    recipe_refused("\"src\": \"./conf//x.ini\"", "\"src\": \"x\", \"path\": \"y\"", "either",
                   __LINE__);
    recipe_refused("\"src\": \"./conf//x.ini\", ", "", "either", __LINE__);
    recipe_refused("\"src\": \"./conf//x.ini\"", "\"path\": \"../x.ini\"", "path \"../x.ini\"",
                   __LINE__);
    recipe_refused("\"src\": \"./conf//x.ini\"", "\"path\": \"/etc/x.ini\"", "inside the tree",
                   __LINE__);
    recipe_refused("\"src\": \"./conf//x.ini\"", "\"path\": 7", "path", __LINE__);
}

#define COPY_GO                                                                                    \
    "\"copy\": [{\"from\": \"/usr/local/bin/servers/gin\", \"to\": \"/usr/local/bin/gin\"}]"

/* A copy stage takes files out of its builder and runs nothing. */
TEST(copy_stages)
{
    static const struct {
        const char *stage, *refusal; /* NULL: accepted */
    } cases[] = {
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", " COPY_GO "}", NULL},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"install\": \"/app\", " COPY_GO "}",
         NULL},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"command\": [\"true\"], " COPY_GO
         "}",
         "a copy stage runs nothing"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"env\": [\"A=1\"], " COPY_GO "}",
         "a copy stage runs nothing"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"sources\": [{\"path\": \"x\", "
         "\"mount\": \"/x\"}], " COPY_GO "}",
         "a copy stage runs nothing"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\"}", "command must not be empty"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"command\": []}",
         "command must not be empty"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"copy\": []}", "non-empty array"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"copy\": {}}", "non-empty array"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"copy\": [{\"from\": \"/a\"}]}",
         "to"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"copy\": [{\"from\": \"a\", "
         "\"to\": \"/a\"}]}",
         "copy[0]: from and to must be absolute"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"copy\": [{\"from\": \"/a\", "
         "\"to\": \"/\"}]}",
         "copy[0]"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"copy\": [{\"from\": \"/a\", "
         "\"to\": \"/b\"}, {\"from\": \"/a/../../etc/shadow\", \"to\": \"/b\"}]}",
         "copy[1]"},
        {"{\"name\": \"gin\", \"builder\": \"go-1.23-static\", \"copy\": [{\"from\": \"//\", "
         "\"to\": \"/b\"}]}",
         "copy[0]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ap_recipe *r = NULL;
        ap_error *err = NULL;
        char stages[1024];
        snprintf(stages, sizeof(stages), "[%s]", cases[i].stage);
        int rc = parse_with_stages("go-gin", "[]", stages, &r, &err);
        if (cases[i].refusal == NULL) {
            if (CHECK_MSG(rc == 0, "case %zu: %s", i, err ? err->msg : "?") &&
                CHECK(r->n_stages == 1)) {
                const struct ap_recipe_stage *st = &r->stages[0];
                CHECK_MSG(st->n_copy == 1 && st->n_command == 0, "case %zu", i);
                CHECK(strcmp(st->copy[0].from, "/usr/local/bin/servers/gin") == 0);
                CHECK(strcmp(st->copy[0].to, "/usr/local/bin/gin") == 0);
            }
        } else {
            CHECK_MSG(rc == -1, "case %zu: accepted", i);
            CHECK_MSG(test_contains(err ? err->msg : NULL, cases[i].refusal),
                      "case %zu: \"%s\" not in: %s", i, cases[i].refusal,
                      err ? err->msg : "(none)");
        }
        if (rc == 0)
            ap_recipe_free(r);
        ap_error_release(&err);
    }
}
