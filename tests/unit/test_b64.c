/*
 * Base64 as ECR tokens and docker "auth" fields use it: RFC 4648 vectors,
 * round trips of every byte value, and strict refusal of anything else.
 */
#include "core/b64.h"
#include "core/buf.h"
#include "test_assert.h"
#include "test_util.h"

#include <string.h>

static const struct {
    const char *plain;
    const char *encoded;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

#define N_RFC4648 (sizeof(rfc4648) / sizeof(rfc4648[0]))

static void b64_encode__rfc4648_vectors__match(void **state)
{
    for (size_t i = 0; i < N_RFC4648; i++) {
        struct buf out = BUF_INIT;
        b64_encode(&out, rfc4648[i].plain, strlen(rfc4648[i].plain));
        assert_string_equal(buf_str(&out), rfc4648[i].encoded);
        buf_free(&out);
    }
}

static void b64_decode__rfc4648_vectors__match(void **state)
{
    for (size_t i = 0; i < N_RFC4648; i++) {
        struct buf out = BUF_INIT;
        const char *in = rfc4648[i].encoded;
        assert_int_equal(b64_decode(&out, in, strlen(in)), 0);
        assert_string_equal(buf_str(&out), rfc4648[i].plain);
        assert_int_equal(out.len, strlen(rfc4648[i].plain));
        buf_free(&out);
    }
}

/* Every length from 0 to 300 over every byte value, including NUL and
 * bytes >= 0x80, survives encode then decode unchanged. */
static void b64__all_bytes_and_lengths__round_trip(void **state)
{
    unsigned char data[300];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof(data); n++) {
        struct buf enc = BUF_INIT, dec = BUF_INIT;
        b64_encode(&enc, data, n);
        assert_int_equal(enc.len, 4 * ((n + 2) / 3));
        assert_null(memchr(buf_str(&enc), '\n', enc.len));
        assert_int_equal(b64_decode(&dec, enc.data, enc.len), 0);
        assert_int_equal(dec.len, n);
        if (n)
            assert_memory_equal(dec.data, data, n);
        buf_free(&enc);
        buf_free(&dec);
    }
}

static void b64_encode__long_input__has_no_line_breaks(void **state)
{
    char plain[2400];
    struct buf out = BUF_INIT;

    memset(plain, 'p', sizeof(plain));
    b64_encode(&out, plain, sizeof(plain));
    assert_int_equal(out.len, 3200);
    assert_null(strpbrk(buf_str(&out), "\r\n"));
    buf_free(&out);
}

static void b64_encode__existing_contents__appends(void **state)
{
    struct buf out = BUF_INIT;

    buf_must_adds(&out, "Basic ");
    b64_encode(&out, "AWS:pw", 6);
    assert_string_equal(buf_str(&out), "Basic QVdTOnB3");
    buf_free(&out);
}

static void b64_decode__existing_contents__appends(void **state)
{
    struct buf out = BUF_INIT;

    buf_must_adds(&out, ">");
    assert_int_equal(b64_decode(&out, "Zm9v", 4), 0);
    assert_string_equal(buf_str(&out), ">foo");
    buf_free(&out);
}

static void expect_refused(const char *in)
{
    struct buf out = BUF_INIT;

    buf_must_adds(&out, "kept");
    if (b64_decode(&out, in, strlen(in)) != -1)
        fail_msg("b64_decode accepted \"%s\"", in);
    /* A refused input adds nothing. */
    assert_string_equal(buf_str(&out), "kept");
    buf_free(&out);
}

static void b64_decode__bad_padding__refused(void **state)
{
    expect_refused("Zg");  /* padding missing */
    expect_refused("Zg="); /* length not a multiple of 4 */
    expect_refused("Zg===");
    expect_refused("Z==="); /* three pad characters */
    expect_refused("====");
    expect_refused("Zg=a"); /* padding before data */
    expect_refused("Z=g=");
    expect_refused("Zg==Zm9v"); /* data after padding */
    expect_refused("=Zm9");
}

static void b64_decode__other_alphabets__refused(void **state)
{
    expect_refused("Zm-v"); /* base64url */
    expect_refused("Zm_v");
    expect_refused("Zm9v*A==");
    expect_refused("Zm9\x80");
    expect_refused("Zm\xc3\xa9");
}

static void b64_decode__whitespace__refused(void **state)
{
    expect_refused("Zm9v\n");
    expect_refused("Zm9v\nYmFy");
    expect_refused(" Zm9v");
    expect_refused("Zm9vYmF y");
    expect_refused("Zm9vYmFy\r\n");
    expect_refused("Zm\t9v");
}

static void b64_decode__embedded_nul__refused(void **state)
{
    struct buf out = BUF_INIT;

    assert_int_equal(b64_decode(&out, "Zm\0v", 4), -1);
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

static void b64_decode__empty__succeeds_with_nothing(void **state)
{
    struct buf out = BUF_INIT;

    assert_int_equal(b64_decode(&out, "", 0), 0);
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

static void b64_decode__beyond_out_cap__refused(void **state)
{
    struct buf out;

    buf_init(&out, 5, BUF_SECRET);
    assert_int_equal(b64_decode(&out, "Zm9vYmFy", 8), -1); /* 6 bytes */
    assert_int_equal(out.len, 0);
    assert_int_equal(b64_decode(&out, "Zm9vYmE=", 8), 0); /* 5 bytes */
    assert_string_equal(buf_str(&out), "fooba");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64_encode__rfc4648_vectors__match),
        cmocka_unit_test(b64_decode__rfc4648_vectors__match),
        cmocka_unit_test(b64__all_bytes_and_lengths__round_trip),
        cmocka_unit_test(b64_encode__long_input__has_no_line_breaks),
        cmocka_unit_test(b64_encode__existing_contents__appends),
        cmocka_unit_test(b64_decode__existing_contents__appends),
        cmocka_unit_test(b64_decode__bad_padding__refused),
        cmocka_unit_test(b64_decode__other_alphabets__refused),
        cmocka_unit_test(b64_decode__whitespace__refused),
        cmocka_unit_test(b64_decode__embedded_nul__refused),
        cmocka_unit_test(b64_decode__empty__succeeds_with_nothing),
        cmocka_unit_test(b64_decode__beyond_out_cap__refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
