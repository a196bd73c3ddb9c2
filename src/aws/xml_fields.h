/*
 * xml_fields.h - pull named text fields out of a small XML answer.
 *
 * STS answers and AWS XML errors are shallow documents whose interesting
 * elements have unique local names (AccessKeyId, Expiration, Code,
 * Message), so a field lookup by local name is all the AWS side needs.
 * Parsing is expat's; expat's memory is wiped on free, since answers
 * carry secret keys.
 */
#ifndef ECR_RENEW_AWS_XML_FIELDS_H
#define ECR_RENEW_AWS_XML_FIELDS_H

#include "../core/err.h"

#include <stddef.h>

/* For each names[i], sets values[i] to a new copy of the text of the
 * first element with that local name (namespace ignored), or NULL. The
 * caller frees values with wipe_free_str. Returns ER_PARSE for text
 * that is not well-formed XML, leaving values all NULL. */
enum er_code xmlf_extract(const char *xml, size_t len, const char *const *names,
                          size_t n, char **values,
                          struct er_error *err) ER_CHECK;

/* The local name of the document's root element, newly allocated, or
 * NULL if the text is not XML. */
char *xmlf_root_name(const char *xml, size_t len);

#endif
