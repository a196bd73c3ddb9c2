#include "xml_fields.h"
#include "../core/buf.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <expat.h>
#include <stdlib.h>
#include <string.h>

#define XMLF_MAX_DEPTH 32
#define XMLF_MAX_TEXT (64u * 1024)

struct xmlf_state {
    const char *const *names;
    size_t n;
    char **values;
    int capturing; /* index being captured, or -1 */
    int depth;
    struct buf text;
    char *root;
    XML_Parser parser;
};

static const XML_Memory_Handling_Suite wiping_suite = {
    wipe_lib_malloc, wipe_lib_realloc, wipe_free};

static const char *local_name(const XML_Char *name)
{
    const char *sep = strrchr(name, '|');

    return sep ? sep + 1 : name;
}

static void XMLCALL on_start(void *data, const XML_Char *name,
                             const XML_Char **attrs)
{
    struct xmlf_state *st = data;
    const char *local = local_name(name);

    (void)attrs;
    if (++st->depth > XMLF_MAX_DEPTH) {
        XML_StopParser(st->parser, XML_FALSE);
        return;
    }
    if (!st->root)
        st->root = xstrdup(local);
    if (st->capturing >= 0)
        return;
    for (size_t i = 0; i < st->n; i++) {
        if (!st->values[i] && strcmp(st->names[i], local) == 0) {
            st->capturing = (int)i;
            buf_reset(&st->text);
            return;
        }
    }
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    struct xmlf_state *st = data;
    int idx = st->capturing;

    st->depth--;
    if (idx < 0 || strcmp(st->names[idx], local_name(name)) != 0)
        return;
    st->values[idx] = xstrdup(buf_str(&st->text));
    st->capturing = -1;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
    struct xmlf_state *st = data;

    if (st->capturing >= 0 && buf_add(&st->text, s, (size_t)len) != BUF_OK)
        XML_StopParser(st->parser, XML_FALSE);
}

/* Answers are small: expat may use this much to read one. */
#define XMLF_BUDGET (4u * 1024 * 1024)

static int run_parser(struct xmlf_state *st, const char *xml, size_t len)
{
    struct alloc_budget budget;
    int ok;

    wipe_budget_begin(&budget, XMLF_BUDGET);
    st->parser = XML_ParserCreate_MM(NULL, &wiping_suite, "|");
    if (!st->parser) {
        wipe_budget_end(&budget);
        return -1;
    }
    XML_SetUserData(st->parser, st);
    XML_SetElementHandler(st->parser, on_start, on_end);
    XML_SetCharacterDataHandler(st->parser, on_text);
    ok = len <= 0x7fffffff &&
         XML_Parse(st->parser, xml, (int)len, XML_TRUE) == XML_STATUS_OK;
    XML_ParserFree(st->parser);
    wipe_budget_end(&budget);
    return ok ? 0 : -1;
}

enum er_code xmlf_extract(const char *xml, size_t len, const char *const *names,
                          size_t n, char **values, struct er_error *err)
{
    struct xmlf_state st = {
        .names = names,
        .n = n,
        .values = values,
        .capturing = -1,
    };

    buf_init(&st.text, XMLF_MAX_TEXT, BUF_SECRET);
    memset(values, 0, n * sizeof(*values));
    if (run_parser(&st, xml, len) < 0) {
        for (size_t i = 0; i < n; i++) {
            wipe_free_str(values[i]);
            values[i] = NULL;
        }
        buf_free(&st.text);
        free(st.root);
        return er_set(err, ER_PARSE, "answer is not well-formed XML");
    }
    buf_free(&st.text);
    free(st.root);
    return ER_OK;
}

char *xmlf_root_name(const char *xml, size_t len)
{
    struct xmlf_state st = {.capturing = -1, .text = BUF_INIT};

    if (run_parser(&st, xml, len) < 0) {
        free(st.root);
        st.root = NULL;
    }
    buf_free(&st.text);
    return st.root;
}
