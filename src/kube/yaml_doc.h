/*
 * yaml_doc.h - a YAML document as a jansson tree that remembers lines.
 *
 * Kubeconfigs are YAML (or JSON, which is YAML too). Turning the first
 * document of a file into a jansson tree lets the kubeconfig code walk it
 * like any JSON, and the line table lets its semantic errors point at the
 * place to fix ("file:12: context ... names cluster ...").
 *
 * Plain scalars are typed as the YAML core schema types them, as far as a
 * kubeconfig cares: true/false (any of the three spellings) become
 * booleans, null, ~ and nothing become null, and everything else,
 * numbers included, stays a string, since every kubeconfig field that is
 * not a boolean is a string. Quoted scalars and "!!str" are strings.
 * Aliases share the anchored node; merge keys ("<<") are plain keys.
 * A later duplicate key replaces the earlier one, as in kubectl. Only the
 * first document counts, but the whole stream must be well-formed.
 *
 * Pure: no I/O. Scalars that libyaml hands over are wiped once copied,
 * since a kubeconfig holds tokens and keys.
 *
 * Ownership: yaml_doc_parse gives the caller a document that owns its
 * tree; yaml_doc_root and yaml_doc_line borrow from it.
 */
#ifndef ECR_RENEW_KUBE_YAML_DOC_H
#define ECR_RENEW_KUBE_YAML_DOC_H

#include "../core/err.h"

#include <jansson.h>
#include <stddef.h>

/* Nesting deeper than this is refused; kubeconfigs need 6 levels. */
#define YAML_DOC_MAX_DEPTH 64
/* A document with more nodes than this is refused before it costs more
 * memory: a kubeconfig with a thousand contexts has about 20,000. */
#define YAML_DOC_MAX_NODES 200000
/* And the tree may not take more than this, whatever its shape. */
#define YAML_DOC_MAX_BYTES (32u * 1024 * 1024)

struct yaml_doc;

/* Parses text. A syntax error is ER_CONFIG with the message
 * "<name>:<line>:<col>: <libyaml's problem>". */
enum er_code yaml_doc_parse(const char *text, size_t len, const char *name,
                            struct yaml_doc **out,
                            struct er_error *err) ER_CHECK;

/* The tree: json null for a stream without a document. */
json_t *yaml_doc_root(const struct yaml_doc *d);

/* The 1-based line where node (a mapping, sequence or string of this
 * document) starts, or 0 when unknown (booleans and nulls). */
int yaml_doc_line(const struct yaml_doc *d, const json_t *node);

void yaml_doc_free(struct yaml_doc *d);

#endif
