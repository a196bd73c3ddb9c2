#include "names.h"

#include <string.h>

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One DNS-1123 label: [a-z0-9-], starting and ending alphanumeric. */
static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum_lower(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

bool kube_name_is_label(const char *s)
{
    return label_ok(s, strlen(s));
}

/* Dot-separated labels, 253 characters at most. */
bool kube_name_is_subdomain(const char *s)
{
    size_t n = strlen(s);
    const char *p = s;

    if (n == 0 || n > 253)
        return false;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!label_ok(p, len))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}
