#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/log.h"

#ifndef AP_VERSION
#define AP_VERSION "0"
#endif

static CURLcode global_status = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ap_fetch_init(struct ap_fetch *f, const char *cache_dir, const char *mirrors, ap_error **err)
{
    memset(f, 0, sizeof(*f));
    /* Here, not at start: only commands that fetch load libcurl and initialise OpenSSL. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
    if (global_status != CURLE_OK)
        return ap_error_make(err, 0, "libcurl failed to initialise: %s",
                             curl_easy_strerror(global_status));
    f->attempts = 4;
    f->connect_timeout_s = 20;
    f->low_speed_time_s = 30;
    f->backoff_ms = 1000;
    if (mirrors == NULL || *mirrors == '\0')
        mirrors = AP_DEFAULT_MIRROR;
    cleanup_free char *copy = strdup(mirrors);
    if (copy == NULL)
        return ap_error_make(err, ENOMEM, "mirror list");
    size_t n = 1;
    for (const char *p = copy; *p; p++)
        n += *p == ',';
    f->mirrors = calloc(n, sizeof(char *));
    if (f->mirrors == NULL)
        return ap_error_make(err, ENOMEM, "mirror list");
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        size_t len = strlen(t);
        while (len > 0 && t[len - 1] == '/')
            t[--len] = '\0';
        if (len == 0)
            continue;
        if (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0 &&
            strncmp(t, "file://", 7) != 0) {
            ap_fetch_done(f);
            return ap_error_make(err, 0,
                                 "mirror \"%s\" must be an http://, https:// or file:// URL", t);
        }
        f->mirrors[f->n_mirrors++] = strdup(t);
    }
    if (f->n_mirrors == 0) {
        ap_fetch_done(f);
        return ap_error_make(err, 0, "the mirror list is empty");
    }
    if (asprintf(&f->blob_dir, "%s/blobs/sha256", cache_dir) < 0) {
        f->blob_dir = NULL;
        ap_fetch_done(f);
        return ap_error_make(err, ENOMEM, "cache path");
    }
    if (ap_fs_mkdir_p(f->blob_dir, 0755, err) < 0) {
        ap_fetch_done(f);
        return ap_error_hint(err, "set APPLIANCE_CACHE or --cache to a writable directory");
    }
    return 0;
}

void ap_fetch_done(struct ap_fetch *f)
{
    for (size_t i = 0; i < f->n_mirrors; i++)
        free(f->mirrors[i]);
    free(f->mirrors);
    free(f->blob_dir);
    if (f->curl != NULL)
        curl_easy_cleanup(f->curl);
    memset(f, 0, sizeof(*f));
}

char *ap_fetch_cache_path(const struct ap_fetch *f, const char *sha256)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", f->blob_dir, sha256) < 0)
        return NULL;
    return p;
}

struct sink {
    int fd;
    uint64_t got, limit;
    struct ap_sha256 h;
    int too_big, write_errno;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    if (s->got + n > s->limit) {
        s->too_big = 1;
        return 0;
    }
    if (ap_fs_write_all(s->fd, ptr, n) < 0) {
        s->write_errno = errno;
        return 0;
    }
    ap_sha256_update(&s->h, ptr, n);
    s->got += n;
    return n;
}

enum outcome { GOT_IT, TRANSIENT, NOT_FOUND, BAD_CONTENT };

/* One attempt at one URL into a fresh temporary file that becomes `final` only when
 * complete and verified. `why` receives a description of any failure. */
static enum outcome try_once(struct ap_fetch *f, const char *url, const char *sha256, uint64_t size,
                             const char *final, char *why, size_t whylen)
{
    char tmp[4096];
    if (ap_fs_path(tmp, sizeof(tmp), "%s.part-XXXXXX", final) < 0) {
        snprintf(why, whylen, "the download beside %.900s: %s", final, strerror(ENAMETOOLONG));
        return BAD_CONTENT;
    }
    struct sink s = {.fd = mkostemp(tmp, O_CLOEXEC), .limit = size};
    if (s.fd < 0) {
        snprintf(why, whylen, "creating %.900s: %s", tmp, strerror(errno));
        return BAD_CONTENT;
    }
    ap_sha256_init(&s.h);
    if (f->curl == NULL)
        f->curl = curl_easy_init();
    CURL *c = f->curl;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, f->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, f->low_speed_time_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "appliance/" AP_VERSION);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    enum outcome out = GOT_IT;
    if (rc == CURLE_FILE_COULDNT_READ_FILE || code == 404 || code == 410) {
        snprintf(why, whylen, "%s: %s", url,
                 code != 0 ? (code == 404 ? "HTTP 404 Not Found" : "HTTP 410 Gone")
                           : "no such file");
        out = NOT_FOUND;
    } else if (s.too_big) {
        snprintf(why, whylen, "%s: more than the pinned %llu bytes", url, (unsigned long long)size);
        out = BAD_CONTENT;
    } else if (s.write_errno != 0) {
        snprintf(why, whylen, "writing %.900s: %s", tmp, strerror(s.write_errno));
        out = BAD_CONTENT;
    } else if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        out = TRANSIENT;
    } else if (code >= 400 || (code != 0 && code != 200)) {
        snprintf(why, whylen, "%s: HTTP %ld", url, code);
        out = code >= 500 || code == 429 ? TRANSIENT : NOT_FOUND;
    } else if (s.got != size) {
        snprintf(why, whylen, "%s: got %llu bytes, the pin says %llu", url,
                 (unsigned long long)s.got, (unsigned long long)size);
        out = s.got < size ? TRANSIENT : BAD_CONTENT;
    } else {
        char hex[AP_SHA256_HEX_LEN + 1];
        ap_sha256_final_hex(&s.h, hex);
        if (strcmp(hex, sha256) != 0) {
            snprintf(why, whylen, "%s: sha256 %s, the pin says %s", url, hex, sha256);
            out = BAD_CONTENT;
        }
    }
    if (out == GOT_IT && (fchmod(s.fd, 0444) < 0 || fsync(s.fd) < 0 || rename(tmp, final) < 0)) {
        snprintf(why, whylen, "storing %s: %s", final, strerror(errno));
        out = BAD_CONTENT;
    }
    close(s.fd);
    if (out != GOT_IT)
        unlink(tmp);
    else
        f->fetched_bytes += size;
    return out;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int ap_fetch_blob(struct ap_fetch *f, const char *relpath, const char *sha256, uint64_t size,
                  const char *label, char **out, ap_error **err)
{
    cleanup_free char *path = ap_fetch_cache_path(f, sha256);
    if (path == NULL)
        return ap_error_make(err, ENOMEM, "%s", label);
    struct stat st;
    if (lstat(path, &st) == 0) {
        char hex[AP_SHA256_HEX_LEN + 1];
        uint64_t got = 0;
        ap_error *e = NULL;
        if (S_ISREG(st.st_mode) && ap_sha256_file(AT_FDCWD, path, hex, &got, &e) == 0 &&
            got == size && strcmp(hex, sha256) == 0) {
            f->cached_hits++;
            *out = steal_pointer(&path);
            return 0;
        }
        ap_log_warn("cached %s (%s) is corrupt (%s); removing it and fetching it again", label,
                    path, e != NULL ? e->msg : "sha256 or size differs from the pin");
        ap_error_release(&e);
        if (unlink(path) < 0 && errno != ENOENT)
            return ap_error_make(err, errno, "removing corrupt cache file %s", path);
    }
    char why[1024] = "", last_404[1024] = "";
    for (size_t m = 0; m < f->n_mirrors; m++) {
        cleanup_free char *url = NULL;
        if (asprintf(&url, "%s/%s", f->mirrors[m], relpath) < 0)
            return ap_error_make(err, ENOMEM, "%s", label);
        unsigned delay = f->backoff_ms;
        for (int attempt = 1; attempt <= f->attempts; attempt++) {
            ap_log_debug("fetching %s (attempt %d)", url, attempt);
            enum outcome o = try_once(f, url, sha256, size, path, why, sizeof(why));
            if (o == GOT_IT) {
                *out = steal_pointer(&path);
                return 0;
            }
            if (o == NOT_FOUND)
                snprintf(last_404, sizeof(last_404), "%s", why);
            if (o != TRANSIENT)
                break;
            if (attempt < f->attempts) {
                ap_log_warn("%s: %s; retrying in %u ms", label, why, delay);
                sleep_ms(delay);
                delay *= 2;
            }
        }
    }
    if (last_404[0] != '\0') {
        ap_error_make(err, 0, "package %s is not on any mirror (%s)", label, last_404);
        return ap_error_hint(err,
                             "Debian's mirrors drop superseded versions. Re-pin with `make lock` "
                             "(a commit of its own), or point --mirror / APPLIANCE_MIRROR at a "
                             "Debian snapshot archive URL from a date when this version was "
                             "current");
    }
    return ap_error_make(err, 0, "fetching %s failed: %s", label, why);
}
