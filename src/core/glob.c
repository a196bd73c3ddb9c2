#include "glob.h"

#include <string.h>

/*
 * Greedy matching that remembers only the last '*' seen. When a later
 * character fails, that star takes one more character and matching
 * resumes after it. Earlier stars never need to be revisited: whatever
 * an earlier star could absorb, the last one can absorb as well, so the
 * backtracking is bounded and no recursion is needed.
 */
bool glob_match(const char *pattern, const char *s)
{
    const char *p = pattern;
    const char *star = NULL; /* the last '*' of the pattern seen */
    const char *resume = s;  /* where the text after that star starts */

    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool glob_is_pattern(const char *s)
{
    return strpbrk(s, "*?") != NULL;
}
