/* The status of a figure: see status.h for the statuses and their precedence. */
#include "status.h"

#include <stdio.h>
#include <string.h>

static const char *const names[AP_STATUS_COUNT] = {
    [AP_STATUS_OK] = "ok",
    [AP_STATUS_UNSTABLE] = "unstable",
    [AP_STATUS_N_TOO_SMALL] = "n-too-small",
    [AP_STATUS_NOISY] = "noisy",
    [AP_STATUS_CLIENT_SATURATED] = "client-saturated",
    [AP_STATUS_UNSUSTAINED] = "unsustained",
    [AP_STATUS_NO_VALID_RESPONSE] = "no-valid-response",
    [AP_STATUS_ERRORS] = "errors",
};

const char *ap_status_name(enum ap_status s)
{
    return (unsigned)s < AP_STATUS_COUNT ? names[s] : "?";
}

int ap_status_parse(const char *name, enum ap_status *out)
{
    for (unsigned i = 0; name != NULL && i < AP_STATUS_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum ap_status)i;
            return 0;
        }
    }
    return -1;
}

enum ap_status ap_status_pick(unsigned bits)
{
    for (unsigned i = AP_STATUS_COUNT; i-- > 1;)
        if (bits & AP_STATUS_BIT(i))
            return (enum ap_status)i;
    return AP_STATUS_OK;
}

unsigned ap_status_of_stats(const struct ap_stats *s)
{
    unsigned bits = 0;
    if (s->n_too_small)
        bits |= AP_STATUS_BIT(AP_STATUS_N_TOO_SMALL);
    if (s->unstable)
        bits |= AP_STATUS_BIT(AP_STATUS_UNSTABLE);
    return bits;
}

unsigned ap_status_of_load(const struct ap_load_result *r)
{
    unsigned bits = 0;
    uint64_t errors = r->connect_errors + r->read_errors + r->write_errors + r->timeouts +
                      r->invalid_status + r->invalid_headers + r->invalid_body;
    if (errors > 0)
        bits |= AP_STATUS_BIT(AP_STATUS_ERRORS);
    if (r->requests == 0)
        bits |= AP_STATUS_BIT(AP_STATUS_NO_VALID_RESPONSE);
    /* target_rate is set in open loop only. */
    if (r->target_rate > 0 && !r->sustained)
        bits |= AP_STATUS_BIT(AP_STATUS_UNSUSTAINED);
    if (r->saturated)
        bits |= AP_STATUS_BIT(AP_STATUS_CLIENT_SATURATED);
    return bits;
}

int ap_status_load_has_latency(const struct ap_load_result *r)
{
    if (r->requests == 0 || ap_hist_count(&r->latency) == 0)
        return 0;
    return r->target_rate > 0 ? r->sustained != 0 : 1;
}

const char *ap_status_ratio_refused(enum ap_status figure, enum ap_status base,
                                    const char *base_name, char *buf, size_t len)
{
    if (figure == AP_STATUS_OK && base == AP_STATUS_OK)
        return NULL;
    if (buf == NULL || len == 0)
        return "";
    if (base == AP_STATUS_OK)
        snprintf(buf, len, "%s", ap_status_name(figure));
    else if (figure == AP_STATUS_OK)
        snprintf(buf, len, "%s %s", base_name, ap_status_name(base));
    else
        snprintf(buf, len, "%s; %s %s", ap_status_name(figure), base_name, ap_status_name(base));
    return buf;
}
