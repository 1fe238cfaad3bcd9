/* libcurl's functions the appliance calls, forwarded to libcurl loaded on first use (see
 * dynlib.h). The names are libcurl's own: callers keep calling libcurl as documented. */
#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt and _getinfo are functions here */
#include <curl/curl.h>
#include <stdarg.h>

#include "dynlib.h"

#ifndef AP_LIBCURL_SONAME
#define AP_LIBCURL_SONAME "libcurl.so.4"
#endif

struct ap_dynlib ap_dynlib_curl = {AP_LIBCURL_SONAME, "libcurl4", NULL};

#define REAL(name) AP_DYNLIB_FN(ap_dynlib_curl, name)

CURLcode curl_global_init(long flags)
{
    return REAL(curl_global_init)(flags);
}

CURL *curl_easy_init(void)
{
    return REAL(curl_easy_init)();
}

void curl_easy_cleanup(CURL *curl)
{
    REAL(curl_easy_cleanup)(curl);
}

void curl_easy_reset(CURL *curl)
{
    REAL(curl_easy_reset)(curl);
}

CURLcode curl_easy_perform(CURL *curl)
{
    return REAL(curl_easy_perform)(curl);
}

const char *curl_easy_strerror(CURLcode code)
{
    return REAL(curl_easy_strerror)(code);
}

/* The one argument after the option has the type the option's number range says, as
 * libcurl itself reads it. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLcode r;
    if (option < CURLOPTTYPE_OBJECTPOINT)
        r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, long));
    else if (option < CURLOPTTYPE_FUNCTIONPOINT)
        r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, void *));
    else if (option < CURLOPTTYPE_OFF_T)
        r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, void (*)(void)));
    else if (option < CURLOPTTYPE_BLOB)
        r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_off_t));
    else
        r = REAL(curl_easy_setopt)(curl, option, va_arg(ap, void *));
    va_end(ap);
    return r;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
    va_list ap;
    va_start(ap, info);
    CURLcode r = REAL(curl_easy_getinfo)(curl, info, va_arg(ap, void *));
    va_end(ap);
    return r;
}
