/*
 * Percent-encoding as SigV4 canonical requests and STS form bodies need
 * it: RFC 3986 unreserved characters only, upper-case hex, no '+'.
 */
#include "core/buf.h"
#include "core/urlenc.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static char *encode(const char *s, size_t n, bool keep_slash)
{
    struct buf out = BUF_INIT;

    urlenc_append(&out, s, n, keep_slash);
    return buf_detach(&out, NULL);
}

static char *decode(const char *s)
{
    struct buf out = BUF_INIT;

    urldec_append(&out, s, strlen(s));
    return buf_detach(&out, NULL);
}

static void expect_encoding(const char *in, bool keep_slash, const char *want)
{
    char *got = encode(in, strlen(in), keep_slash);

    assert_string_equal(got, want);
    free(got);
}

static void expect_decoding(const char *in, const char *want)
{
    char *got = decode(in);

    assert_string_equal(got, want);
    free(got);
}

static void urlenc_append__unreserved__kept(void **state)
{
    const char *s = "ABCXYZabcxyz0189-._~";

    expect_encoding(s, false, s);
}

static void urlenc_append__reserved_and_space__escaped_upper_hex(void **state)
{
    expect_encoding("a b", false, "a%20b");
    expect_encoding("a+b", false, "a%2Bb");
    expect_encoding("k=v&x", false, "k%3Dv%26x");
    expect_encoding("arn:aws:iam::123456789012:role/x", false,
                    "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx");
    expect_encoding("%", false, "%25");
    expect_encoding("*", false, "%2A");
    expect_encoding("\x7f\xff", false, "%7F%FF");
}

static void urlenc_append__utf8__each_byte_escaped(void **state)
{
    expect_encoding("\xc3\xa9t\xc3\xa9", false, "%C3%A9t%C3%A9");
}

static void urlenc_append__slash__kept_only_when_asked(void **state)
{
    expect_encoding("/a b/c", true, "/a%20b/c");
    expect_encoding("/a b/c", false, "%2Fa%20b%2Fc");
}

static void urlenc_append__nul_byte__escaped(void **state)
{
    char *got = encode("a\0b", 3, false);

    assert_string_equal(got, "a%00b");
    free(got);
}

static void urldec_append__escapes__decoded(void **state)
{
    expect_decoding("a%20b", "a b");
    expect_decoding("%41%42%43", "ABC");
    expect_decoding("%c3%A9", "\xc3\xa9"); /* either case of hex */
}

static void urldec_append__plus__stays_plus(void **state)
{
    expect_decoding("a+b", "a+b");
}

static void urldec_append__malformed_escapes__copied(void **state)
{
    expect_decoding("%", "%");
    expect_decoding("%4", "%4");
    expect_decoding("ab%", "ab%");
    expect_decoding("%zz", "%zz");
    expect_decoding("%4g", "%4g");
    expect_decoding("100%25%", "100%%");
}

static void urlenc__every_byte__round_trips(void **state)
{
    char all[256];
    struct buf dec = BUF_INIT;
    char *enc;

    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    enc = encode(all, sizeof(all), false);
    assert_null(strchr(enc, '+'));
    assert_null(strchr(enc, ' '));
    urldec_append(&dec, enc, strlen(enc));
    assert_int_equal(dec.len, sizeof(all));
    assert_memory_equal(dec.data, all, sizeof(all));
    free(enc);
    buf_free(&dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urlenc_append__unreserved__kept),
        cmocka_unit_test(urlenc_append__reserved_and_space__escaped_upper_hex),
        cmocka_unit_test(urlenc_append__utf8__each_byte_escaped),
        cmocka_unit_test(urlenc_append__slash__kept_only_when_asked),
        cmocka_unit_test(urlenc_append__nul_byte__escaped),
        cmocka_unit_test(urldec_append__escapes__decoded),
        cmocka_unit_test(urldec_append__plus__stays_plus),
        cmocka_unit_test(urldec_append__malformed_escapes__copied),
        cmocka_unit_test(urlenc__every_byte__round_trips),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
